#!/bin/bash
# A few machines over ssh, with GNU parallel: shard k of N runs on the k-th
# host and writes its output there (-o, --resume); the outputs are copied
# back and merged by deploy/merge.sh, which checks every line of the list
# has exactly one record.
#
#   deploy/parallel-ssh.sh [-o DIR] LIST HOST...
#
# DIR (default: out) gets shard-k.jsonl and shard-k.summary.json for each
# host, then all.jsonl and all.summary.json. If a host fails, run the same
# command again: every shard continues where it stopped (nothing is fetched
# twice), and the shards that had finished cost one ssh round trip each.
#
# One run is one list on one set of hosts: its ID is a hash of the list's
# contents and the host names, kept in DIR/run.id and used on each host as
# the directory scrape-runs/ID under the remote home (the list is copied
# there; nothing is shared between runs). DIR holding another run's shards
# is refused rather than merged.
#
# Each host needs scrape on its non-interactive PATH (what `ssh HOST
# 'command -v scrape'` finds; ~/.bashrc may not be read), or set SCRAPE to
# its path there. SSH overrides the ssh command (e.g. SSH="ssh -F my_config").
# Extra scrape options: SCRAPE_OPTS (default "--threads 64 --per-host 2").
set -euo pipefail

SSH=${SSH:-ssh}
SCRAPE=${SCRAPE:-scrape}
SCRAPE_OPTS=${SCRAPE_OPTS:---threads 64 --per-host 2}
me=$(basename "$0")
say() { echo "$me: $*" >&2; }

# --- one shard (run by parallel: "$0" --one HOST K N RUN LIST DIR) -----------
if [ "${1:-}" = --one ]; then
    host=$2 k=$3 n=$4 run=$5 list=$6 out=$7
    rdir="scrape-runs/$run"
    # shellcheck disable=SC2029 # expanded here on purpose
    if ! $SSH "$host" "command -v '$SCRAPE'" >/dev/null; then
        say "$host: '$SCRAPE' is not on the PATH of a non-interactive ssh session (ssh $host 'echo \$PATH'); install it there, or set SCRAPE to its path"
        exit 127
    fi
    # shellcheck disable=SC2029
    # A part file per shard: hosts may share a home directory (NFS).
    $SSH "$host" "mkdir -p '$rdir' && cat > '$rdir/.urls.txt.$k' && mv '$rdir/.urls.txt.$k' '$rdir/urls.txt'" <"$list"
    status=0
    # shellcheck disable=SC2029
    $SSH "$host" "cd '$rdir' && '$SCRAPE' urls.txt --shard $k/$n $SCRAPE_OPTS -q \
        -o shard-$k.jsonl --resume --summary-json shard-$k.summary.json --progress never" || status=$?
    # Whatever the run did, bring back what it wrote: an interrupted shard
    # is refused by the merge, and continued by the next run.
    for f in "shard-$k.jsonl" "shard-$k.summary.json"; do
        # shellcheck disable=SC2029
        if ! { $SSH "$host" "cat '$rdir/$f'" >"$out/.$f.part" && mv "$out/.$f.part" "$out/$f"; }; then
            rm -f "$out/.$f.part"
            say "$host: cannot copy $rdir/$f back"
            [ "$status" -ne 0 ] || status=1
        fi
    done
    [ "$status" -eq 0 ] || say "$host: shard $k/$n ended with status $status"
    exit "$status"
fi

# --- the run ---------------------------------------------------------------------
OUT=out
if [ "${1:-}" = -o ]; then
    OUT=${2:?usage: $me [-o DIR] LIST HOST...}
    shift 2
fi
usage="usage: $me [-o DIR] LIST HOST..."
LIST=${1:?$usage}
shift
HOSTS=("$@")
N=${#HOSTS[@]}
[ "$N" -gt 0 ] || { echo "$usage" >&2; exit 2; }
[ -r "$LIST" ] || { say "cannot read $LIST"; exit 1; }
command -v parallel >/dev/null || { say "needs GNU parallel (Debian: apt-get install parallel)"; exit 1; }

RUN=$({ sha256sum <"$LIST" | cut -d' ' -f1; printf '%s\n' "${HOSTS[@]}"; } | sha256sum | cut -c1-16)
mkdir -p "$OUT"
WHAT="$LIST on ${HOSTS[*]}"
if [ -e "$OUT/run.id" ]; then
    if [ "$(head -n 1 "$OUT/run.id")" != "$RUN" ]; then
        say "$OUT holds the shards of another run ($(sed -n 2p "$OUT/run.id")), not of $WHAT as it is now; remove them or give -o another directory"
        exit 1
    fi
elif compgen -G "$OUT/shard-*" >/dev/null; then
    say "$OUT holds shards of an earlier run it has no record of; remove them or give -o another directory"
    exit 1
fi
printf '%s\n' "$RUN" "$WHAT" >"$OUT/run.id"

say "run $RUN: $N shards on ${HOSTS[*]}"
failed=0
parallel --quote --link --jobs "$N" --joblog "$OUT/joblog" \
    "$0" --one {1} {2} "$N" "$RUN" "$LIST" "$OUT" \
    ::: "${HOSTS[@]}" ::: $(seq 0 $((N - 1))) || failed=$?
if [ "$failed" -ne 0 ]; then
    say "$failed of $N shards failed (see above and $OUT/joblog); run the same command again to continue them"
    exit 1
fi
exec "$(dirname "$0")/merge.sh" "$LIST" "$OUT"
