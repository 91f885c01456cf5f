#!/bin/bash
# Merge the shards of one list, and check them first: every line of the list
# that needs a record has exactly one, across all shards.
#
#   deploy/merge.sh LIST DIR [MERGED]
#
# DIR holds what the recipes write: shard-K.jsonl and shard-K.summary.json
# for K = 0..N-1. The checks:
#   - the summaries are of one split (same N), cover shards 0..N-1 once
#     each, none was interrupted, and each read all of LIST (its lines
#     handled plus those it left to other shards are LIST's entries);
#   - no file left from another run (shard-K with K >= N, or a shard
#     without its summary);
#   - every record is for a line of LIST that needs one, and says that
#     line's text (a record of another version of the list is refused);
#   - every line has exactly one record (a repeated URL's is a short
#     record with duplicate_of);
#   - a crawl's (--follow, --sitemap): the records of pages it found (those
#     with a `parent`) are beside their seed's line, and no page has a
#     record in two shards (each host is one shard's).
# On success it writes MERGED (default DIR/all.jsonl: the records in list
# order) and MERGED's summary beside it (all.summary.json: counts recomputed
# from the records), prints one line, and exits 0. When a check fails it
# writes nothing, says what is wrong on stderr, and exits 1 (2: bad usage).
#
# Needs bash, jq (1.6 or later), awk, sort and the coreutils. A million
# records (350 MB) took 49 s and 210 MB of memory here: awk keeps
# the list's lines, the records are sorted on disk.
set -euo pipefail
export LC_ALL=C

usage() {
    echo "usage: merge.sh LIST DIR [MERGED]" >&2
    exit 2
}
fail() {
    echo "merge.sh: $*" >&2
    exit 1
}

[ $# -ge 2 ] && [ $# -le 3 ] || usage
LIST=$1
DIR=${2%/}
MERGED=${3:-$DIR/all.jsonl}
MERGED_SUMMARY="${MERGED%.jsonl}.summary.json"
[ -r "$LIST" ] || fail "cannot read the list $LIST"
[ -d "$DIR" ] || fail "$DIR is not a directory"
command -v jq >/dev/null || fail "needs jq on PATH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scrape-merge.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The list's entries: line number and text (as scrape trims it: a byte
# order mark and Unicode whitespace at the ends; blank lines and # comments
# need no record), JSON-encoded so that any byte compares exactly.
jq -R -r 'sub("^[\\s\\x{feff}]+"; "") | sub("\\s+$"; "") as $t
          | if $t == "" or ($t | startswith("#")) then empty
            else "\(input_line_number)\t\($t | tojson)" end' "$LIST" >"$WORK/entries"
ENTRIES=$(wc -l <"$WORK/entries")

# --- the summaries -----------------------------------------------------------
shopt -s nullglob
summaries=("$DIR"/shard-*.summary.json)
shards=("$DIR"/shard-*.jsonl)
[ ${#summaries[@]} -gt 0 ] || fail "no shard-K.summary.json in $DIR: did the shards run with --summary-json?"

declare -A seen_index=()
N=""
problems=()
for s in "${summaries[@]}"; do
    name=$(basename "$s" .summary.json)
    k=${name#shard-}
    fields=$(jq -r '[(.shard.index // "none"), (.shard.count // "none"), .interrupted,
                     .urls, .other_shards] | @tsv' "$s" 2>/dev/null) ||
        fail "$s is not a scrape summary (torn: did its run finish?)"
    [ -n "$fields" ] || fail "$s is not a scrape summary (empty: did its run finish?)"
    IFS=$'\t' read -r index count interrupted urls others <<<"$fields"
    if [ "$index" = none ]; then
        problems+=("$s: not the summary of a --shard run")
        continue
    fi
    [ "$index" = "$k" ] || problems+=("$s: says shard $index, its name says $k")
    if [ -z "$N" ]; then
        N=$count
    elif [ "$count" != "$N" ]; then
        problems+=("$s: shard $index of $count, but others are of $N: shards of two different splits (left from an earlier run?)")
    fi
    [ -z "${seen_index[$index]:-}" ] || problems+=("shard $index has two summaries")
    seen_index[$index]=1
    [ "$interrupted" = false ] ||
        problems+=("shard $index was interrupted: run it again (same command; --resume continues it)")
    # A crawl's `urls` counts the pages it found too: its lines are checked
    # record by record below.
    crawl=$(jq -r 'has("dropped")' "$s")
    [ "$crawl" = true ] || [ $((urls + others)) -eq "$ENTRIES" ] ||
        problems+=("shard $index read $((urls + others)) entries, $LIST has $ENTRIES: it ran on another version of the list, or did not finish")
    [ -e "$DIR/shard-$k.jsonl" ] || problems+=("shard $index has a summary but no $DIR/shard-$k.jsonl")
done
if [ -n "$N" ]; then
    for ((k = 0; k < N; k++)); do
        [ -n "${seen_index[$k]:-}" ] || problems+=("shard $k of $N is missing (no $DIR/shard-$k.summary.json): did its task run and finish?")
    done
fi
for f in "${shards[@]}"; do
    k=$(basename "$f" .jsonl)
    k=${k#shard-}
    [ -e "$DIR/shard-$k.summary.json" ] ||
        problems+=("$f has no summary: left from an earlier run, or its task has not finished")
done
if [ ${#problems[@]} -gt 0 ]; then
    printf 'merge.sh: %s\n' "${problems[@]}" >&2
    exit 1
fi

# --- the records -------------------------------------------------------------
# "line<TAB>kind<TAB>input" of every record (kind "crawl" and the URL for a
# page a crawl found), a file per shard, in the shard's order.
i=0
for f in "${shards[@]}"; do
    jq -r 'if .parent != null then "\(.line)\tcrawl\t\(.url | tojson)"
           else "\(.line)\tline\t\(.input | tojson)" end' "$f" >"$WORK/keys.$i" ||
        fail "$f: not JSON Lines of scrape records"
    i=$((i + 1))
done
cat "$WORK"/keys.* >"$WORK/records"

awk -F '\t' -v list="$LIST" '
    NR == FNR { want[$1] = $2; next }
    $2 == "crawl" {
        if (crawled[$3]++) {
            bad++; if (bad <= 10) printf "the page %s has %d records (in two shards, or a crawl run twice)\n", $3, crawled[$3]
        }
        next
    }
    {
        $2 = $3
        n = $1
        if (!(n in want)) {
            bad++; if (bad <= 10) printf "a record for line %s, which is blank, a comment or past the end of %s\n", n, list
            next
        }
        if (have[n]++) {
            bad++; if (bad <= 10) printf "line %s has %d records\n", n, have[n]
            next
        }
        # A record may mask a password (***) or cut an over-long line.
        if ($2 != want[n] && index($2, "***") == 0 && length(want[n]) < 65536) {
            bad++; if (bad <= 10) printf "the record for line %s is for %s, but line %s of %s is %s: records of another version of the list\n", n, $2, n, list, want[n]
        }
    }
    END {
        for (n in want) if (!(n in have)) { missing++; if (missing <= 10) lost = lost " " n }
        if (missing > 0) {
            bad++
            printf "%d lines have no record; they include:%s\n", missing, lost
        }
        exit (bad > 0)
    }' "$WORK/entries" "$WORK/records" >"$WORK/problems" || {
    sed 's/^/merge.sh: /' "$WORK/problems" >&2
    exit 1
}

# --- merge -------------------------------------------------------------------
# Each record as written, keyed by its line number for the sort.
i=0
for f in "${shards[@]}"; do
    paste <(cut -f1 "$WORK/keys.$i") "$f"
    i=$((i + 1))
done | sort -s -t $'\t' -k1,1n -T "$WORK" | cut -f2- >"$WORK/all.jsonl"

jq -n --argjson shards "$N" --argjson entries "$ENTRIES" '
    reduce inputs as $r ({records: 0, ok: 0, http_errors: 0, failed: 0, failed_by_kind: {}, duplicates: 0, bytes: 0};
        .records += 1
        | .bytes += ($r.bytes // 0)
        | if $r.duplicate_of != null then .duplicates += 1
          elif $r.error != null then .failed += 1 | .failed_by_kind[$r.error.kind] += 1
          elif $r.ok then .ok += 1
          else .http_errors += 1 end)
    | {lines: $entries, records, ok, http_errors, failed, failed_by_kind,
       duplicates, bytes, shards: $shards}' "$WORK/all.jsonl" >"$WORK/all.summary.json"

mv "$WORK/all.jsonl" "$MERGED"
mv "$WORK/all.summary.json" "$MERGED_SUMMARY"
jq -r --arg m "$MERGED" '
    def n(one; many): "\(.) \(if . == 1 then one else many end)";
    "merge.sh: \($m): \(.records | n("record"; "records")) from \(.shards | n("shard"; "shards")) (\(.ok) ok, \(.http_errors | n("HTTP error"; "HTTP errors")), \(.failed) failed, \(.duplicates | n("duplicate"; "duplicates"))): every line of the list accounted for"' "$MERGED_SUMMARY" >&2
