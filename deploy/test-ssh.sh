#!/bin/bash
# The parallel-ssh recipe, run for real: an sshd on this machine reached
# under four host aliases, and deploy/parallel-ssh.sh run as README says.
#
#   sudo deploy/test-ssh.sh            # from the repository, as root
#
#   1. installs openssh-server, GNU parallel and jq when missing (apt-get);
#      builds scrape and the fixture server (cargo, release);
#   2. starts the fixture server on 20 loopback hosts, logging requests, and
#      an sshd of its own (a key pair, a port and a configuration in a
#      temporary directory); aliases h1..h4 all lead to it;
#   3. "nopath": scrape is not on the non-interactive PATH: every shard
#      fails with exit 127 and says so;
#   4. "four": 4 hosts; merge, one record per line, every URL fetched once;
#   5. "stale": then 3 hosts into the same directory: refused (another
#      run's shards); into a new one: merged whole;
#   6. "rerun": 3 hosts with slower pages, shard 1's scrape stopped
#      (SIGTERM, as a shutdown would) mid-run: the run fails and says to run
#      it again; the same command again completes it, and no URL was
#      fetched twice;
#   7. stops sshd and the server; removes ~/scrape-runs/<run> it made.
#
# Exits 0 when every check passed, 1 otherwise.
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
START=$(date +%s.%N)
say() { printf 'test-ssh: %s\n' "$*" >&2; }
die() {
    say "FAILED: $*"
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (it starts an sshd)"

missing=()
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v parallel >/dev/null || missing+=(parallel)
command -v jq >/dev/null || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
say "building scrape and the fixture server"
(cd "$REPO" && cargo build --release --quiet --bin scrape --example fixture_server)
BIN="$REPO/target/release"

WORK=$(mktemp -d /tmp/scrape-ssh.XXXXXX)
PIDS=()
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for id in "$WORK"/*/run.id; do
        [ -f "$id" ] && rm -rf "$HOME/scrape-runs/$(head -n 1 "$id")"
    done
    rmdir "$HOME/scrape-runs" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- the server, the list ---------------------------------------------------
HOSTS=20
"$BIN/examples/fixture_server" --hosts "$HOSTS" --workers 2 --log "$WORK/requests.log" \
    >"$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q listening "$WORK/server.out" 2>/dev/null && break
    sleep 0.1
done
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.out")
[ -n "$PORT" ] || die "the fixture server did not start"
URLS=2000
make_list() {
    for i in $(seq 0 $((URLS - 1))); do
        echo "http://127.0.0.$((1 + i % HOSTS)):$PORT/page/$i?delay_ms=$1"
    done >"$WORK/urls.txt"
}

# --- sshd under four names ----------------------------------------------------
free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
SSHD_PORT=$(free_port 22022)
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/user_key"
mkdir -p "$WORK/empty"
cat >"$WORK/sshd_config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/user_key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $WORK/sshd.pid
MaxStartups 100
MaxSessions 100
EOF
mkdir -p /run/sshd
/usr/sbin/sshd -f "$WORK/sshd_config" -E "$WORK/sshd.log" || die "sshd did not start: $(cat "$WORK/sshd.log")"
for _ in $(seq 50); do [ -s "$WORK/sshd.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/sshd.pid")")
cat >"$WORK/ssh_config" <<EOF
Host h1 h2 h3 h4
    HostName 127.0.0.1
    Port $SSHD_PORT
    User root
    IdentityFile $WORK/user_key
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    BatchMode yes
EOF
export SSH="ssh -F $WORK/ssh_config"
$SSH h1 true || die "cannot ssh to the test sshd: $(tail -n 5 "$WORK/sshd.log")"
say "sshd on 127.0.0.1:$SSHD_PORT as h1..h4; server on 127.0.0.1-$HOSTS:$PORT"

# check NAME DIR HOSTS: the merged output and the server's log.
check() {
    local name=$1 out=$2 n=$3
    local records requests twice sizes=""
    records=$(wc -l <"$out/all.jsonl")
    [ "$records" -eq "$URLS" ] || die "$name: $records records for $URLS URLs"
    requests=$(grep -c '/page/' "$WORK/requests.log" || true)
    twice=$(grep '/page/' "$WORK/requests.log" | sort | uniq -d | wc -l)
    [ "$requests" -eq "$URLS" ] && [ "$twice" -eq 0 ] ||
        die "$name: the server saw $requests requests ($twice URLs more than once) for $URLS URLs"
    for ((k = 0; k < n; k++)); do sizes="$sizes $(wc -l <"$out/shard-$k.jsonl")"; done
    say "$name: merged $records records for $URLS URLs from $n hosts; shard sizes:$sizes; server saw $requests requests, none twice"
}
recipe() { (cd "$WORK" && "$REPO/deploy/parallel-ssh.sh" "$@"); }

# --- nopath ------------------------------------------------------------------
make_list 10
if recipe -o nopath urls.txt h1 h2 >"$WORK/nopath.err" 2>&1; then
    die "nopath: succeeded without scrape on PATH"
fi
grep -q 'not on the PATH of a non-interactive ssh session' "$WORK/nopath.err" ||
    die "nopath: no reason given: $(cat "$WORK/nopath.err")"
say "nopath: $(grep -m1 'not on the PATH' "$WORK/nopath.err")"
export SCRAPE="$BIN/scrape"

# --- four hosts, then three ------------------------------------------------------
: >"$WORK/requests.log"
recipe urls.txt h1 h2 h3 h4 2>"$WORK/four.err" || die "four: $(cat "$WORK/four.err")"
check four "$WORK/out" 4
if recipe urls.txt h1 h2 h3 2>"$WORK/stale.err"; then
    die "stale: a 3-host run merged into the 4-host run's directory"
fi
say "stale: $(grep -m1 'another run' "$WORK/stale.err")"
: >"$WORK/requests.log"
recipe -o three urls.txt h1 h2 h3 2>"$WORK/three.err" || die "three: $(cat "$WORK/three.err")"
check three "$WORK/three" 3

# --- one shard stopped mid-run, then the same command again ---------------------
make_list 100
: >"$WORK/requests.log"
recipe -o rerun urls.txt h1 h2 h3 2>"$WORK/rerun1.err" &
run=$!
remote=""
for _ in $(seq 600); do
    [ -z "$remote" ] && [ -s "$WORK/rerun/run.id" ] &&
        remote="$HOME/scrape-runs/$(head -n 1 "$WORK/rerun/run.id")/shard-1.jsonl"
    [ -n "$remote" ] && [ -f "$remote" ] && [ "$(wc -l <"$remote")" -ge 20 ] && break
    sleep 0.05
done
pkill -TERM -f -- 'scrape urls.txt --shard 1/3' || die "rerun: shard 1 was not running"

if wait "$run"; then die "rerun: the first run succeeded although shard 1 was stopped"; fi
grep -q 'run the same command again' "$WORK/rerun1.err" || die "rerun: no advice: $(cat "$WORK/rerun1.err")"
first=$(wc -l <"$WORK/rerun/shard-1.jsonl")
recipe -o rerun urls.txt h1 h2 h3 2>"$WORK/rerun2.err" || die "rerun: $(cat "$WORK/rerun2.err")"
check rerun "$WORK/rerun" 3
say "rerun: shard 1 stopped after $first records; the same command again finished it ($(jq .resumed "$WORK/rerun/shard-1.summary.json") kept)"

say "all checks passed in $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}') s"
