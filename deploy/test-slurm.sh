#!/bin/bash
# The Slurm recipe, run for real: a single-node Slurm cluster on this
# machine, the array submitted as README says, and its output checked.
#
#   sudo deploy/test-slurm.sh            # from the repository, as root
#
# What it does:
#   1. installs slurm-wlm and munge from the distribution when missing
#      (apt-get), and builds scrape and the fixture server (cargo, release);
#   2. starts the fixture server on 20 loopback hosts (127.0.0.1-20), logging
#      every request, and writes a list of 2 000 URLs over them (plus blank
#      lines, comments and duplicates);
#   3. starts munged (unless one runs), one slurmctld and one slurmd
#      (`slurmd -N localhost`; no cgroups: proctrack/linuxproc, task/none)
#      with a configuration of its own in a temporary directory;
#   4. run "array": `sbatch deploy/scrape-array.slurm LIST out/` (8 tasks),
#      waits for it, merges with deploy/merge.sh, and checks one record per
#      line and, in the server's log, every URL fetched exactly once; then
#      times the same with `--cpus-per-task=2` (reported, not checked);
#   5. run "requeue": the same with slower pages, and `scontrol requeue` of
#      task 1 once it has written records; checks the same, that the task
#      ran twice, and that its log kept both attempts;
#   6. run "resize": `sbatch --array=0-3` (4 shards, not 8): merges whole;
#   7. the mistakes: an array numbered from 1 (every task refused, exit 2,
#      merge refuses), and scrape missing from PATH (exit 127, said why);
#   8. stops every daemon it started, and the server.
#
# Prints what it measured; exits 0 when every check passed, 1 otherwise.
# Needs root (slurmd runs jobs as their users), Debian or Ubuntu for the
# install step, and about a minute (plus the install and build).
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
START=$(date +%s.%N)

say() { printf 'test-slurm: %s\n' "$*" >&2; }
die() {
    say "FAILED: $*"
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (slurmd starts jobs as their users)"

# --- 1. packages and binaries -------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
command -v jq >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
say "building scrape and the fixture server"
(cd "$REPO" && cargo build --release --quiet --bin scrape --example fixture_server)
BIN="$REPO/target/release"

WORK=$(mktemp -d /tmp/scrape-slurm.XXXXXX)
PIDS=()
STARTED_MUNGE=""
cleanup() {
    set +e
    if [ -n "${SLURM_CONF:-}" ]; then
        scancel --quiet --user=root >/dev/null 2>&1
        for p in slurmd slurmctld; do
            [ -f "$WORK/$p.pid" ] && kill "$(cat "$WORK/$p.pid")" 2>/dev/null
        done
    fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    [ -n "$STARTED_MUNGE" ] && kill "$STARTED_MUNGE" 2>/dev/null
    sleep 1
    for p in slurmd slurmctld; do
        [ -f "$WORK/$p.pid" ] && kill -9 "$(cat "$WORK/$p.pid")" 2>/dev/null
    done
    if [ -n "${KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- 2. the server and the list ------------------------------------------------
HOSTS=20
"$BIN/examples/fixture_server" --hosts "$HOSTS" --workers 2 --log "$WORK/requests.log" \
    >"$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q listening "$WORK/server.out" 2>/dev/null && break
    sleep 0.1
done
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.out")
[ -n "$PORT" ] || die "the fixture server did not start: $(cat "$WORK/server.out")"

# make_list DELAY_MS: 2 000 URLs, host i%20, plus lines that need no fetch.
make_list() {
    local delay=$1
    {
        echo "# $((HOSTS)) hosts, 2000 URLs"
        for i in $(seq 0 1999); do
            echo "http://127.0.0.$((1 + i % HOSTS)):$PORT/page/$i?delay_ms=$delay"
            if [ $((i % 250)) -eq 0 ]; then
                echo ""
                echo "http://127.0.0.$((1 + i % HOSTS)):$PORT/page/$i?delay_ms=$delay#again"
            fi
        done
    } >"$WORK/urls.txt"
}
URLS=2000
DUPLICATES=8

# --- 3. the cluster -----------------------------------------------------------
free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || {
        mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    }
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged --pid-file="$WORK/munged.pid" ||
        die "munged did not start"
    STARTED_MUNGE=$(cat "$WORK/munged.pid")
fi
CTLD_PORT=$(free_port 16817)
SLURMD_PORT=$(free_port $((CTLD_PORT + 1)))
MEM_MB=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
CPUS=$(nproc)
mkdir -p "$WORK/state" "$WORK/spool"
cat >"$WORK/slurm.conf" <<EOF
ClusterName=scrapetest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
KillWait=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"
slurmctld -f "$SLURM_CONF" -i || die "slurmctld did not start: $(tail -n 5 "$WORK/slurmctld.log")"
slurmd -f "$SLURM_CONF" -N localhost || die "slurmd did not start: $(tail -n 5 "$WORK/slurmd.log")"
for _ in $(seq 100); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 0.2
done
sinfo -h -o %T | grep -q idle || die "the node did not come up: $(sinfo 2>&1)"
say "cluster up: slurm $(slurmctld -V | cut -d' ' -f2), 1 node, $CPUS CPUs; server on 127.0.0.1-$HOSTS:$PORT"

# --- helpers ------------------------------------------------------------------
# The tasks of job $1 still in the queue.
queued() { squeue -h -r -j "$1" 2>/dev/null | wc -l; }
wait_job() {
    local job=$1
    for _ in $(seq 1200); do
        [ "$(queued "$job")" -eq 0 ] && return 0
        sleep 0.1
    done
    die "job $job did not finish in 120 s: $(squeue -r -j "$job")"
}
# "STATE EXITCODE" of every task of job $1, one per line.
task_states() {
    scontrol -o show job "$1" |
        sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2 \3/p' | sort -n
}
# submit NAME [sbatch options...]: runs the recipe in $WORK/NAME as README
# says; prints the job ID.
submit() {
    local name=$1
    shift
    mkdir -p "$WORK/$name"
    (cd "$WORK/$name" && PATH="$BIN:$PATH" sbatch --parsable "$@" \
        "$REPO/deploy/scrape-array.slurm" "$WORK/urls.txt" "$WORK/$name/out")
}
# check_run NAME JOB SHARDS T0: the merge and the server's log.
check_run() {
    local name=$1 job=$2 shards=$3 t0=$4
    local out="$WORK/$name/out"
    local states
    states=$(task_states "$job")
    if echo "$states" | grep -qv ' COMPLETED 0:0$'; then
        die "$name: not every task COMPLETED: $states"
    fi
    "$REPO/deploy/merge.sh" "$WORK/urls.txt" "$out" 2>"$WORK/$name/merge.err" ||
        die "$name: merge.sh refused: $(cat "$WORK/$name/merge.err")"
    local records requests distinct twice
    records=$(wc -l <"$out/all.jsonl")
    [ "$records" -eq "$URLS" ] || die "$name: $records records for $URLS URLs"
    requests=$(grep -c '/page/' "$WORK/requests.log" || true)
    distinct=$(grep '/page/' "$WORK/requests.log" | sort -u | wc -l)
    twice=$(grep '/page/' "$WORK/requests.log" | sort | uniq -d | wc -l)
    [ "$requests" -eq "$URLS" ] && [ "$distinct" -eq "$URLS" ] && [ "$twice" -eq 0 ] ||
        die "$name: the server saw $requests requests for $distinct distinct URLs ($twice more than once), expected $URLS once each"
    local sizes=""
    for ((k = 0; k < shards; k++)); do sizes="$sizes $(wc -l <"$out/shard-$k.jsonl")"; done
    local ok
    ok=$(jq -r .ok "$out/all.summary.json")
    say "$name: $shards tasks COMPLETED; merged $records records ($ok ok) for $URLS URLs; shard sizes:$sizes; server saw $requests requests, $distinct distinct, none twice; $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
}

# --- 4. the array, as README says ------------------------------------------------
make_list 20
: >"$WORK/requests.log"
t0=$(date +%s.%N)
job=$(submit array)
wait_job "$job"
t1=$(date +%s.%N)
check_run array "$job" 8 "$t0"

# The same with two CPUs a task, as the recipe once asked: a measurement,
# not a check (tasks then run one at a time on a 2-CPU node).
if [ "$CPUS" -ge 2 ]; then
    : >"$WORK/requests.log"
    t2=$(date +%s.%N)
    job=$(submit twocpu --cpus-per-task=2)
    wait_job "$job"
    t3=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
        printf "test-slurm: throughput: the 8 tasks took %.1f s with 1 CPU each, %.1f s with 2 each (%.2fx as long)\n", b - a, d - c, (d - c) / (b - a) }' >&2
fi

# --- 5. a task requeued mid-run ----------------------------------------------
make_list 150
: >"$WORK/requests.log"
t0=$(date +%s.%N)
job=$(submit requeue)
shard1="$WORK/requeue/out/shard-1.jsonl"
for _ in $(seq 600); do
    [ -f "$shard1" ] && [ "$(wc -l <"$shard1")" -ge 10 ] && break
    sleep 0.05
done
before=$(wc -l <"$shard1")
[ "$(queued "${job}_1")" -gt 0 ] || die "requeue: task 1 ended before it could be requeued"
scontrol requeue "${job}_1"
# Slurm holds a requeued job back for two minutes; once it is pending
# again, start it now.
for _ in $(seq 600); do
    [ "$(squeue -h -r -j "${job}_1" -o %T)" = PENDING ] && break
    sleep 0.05
done
scontrol update JobId="${job}_1" StartTime=now
wait_job "$job"
restarts=$(scontrol -o show job "${job}_1" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
[ "${restarts:-0}" -ge 1 ] || die "requeue: task 1 was not restarted (Restarts=$restarts)"
log1="$WORK/requeue/scrape-${job}_1.log"
attempts=$(grep -c 'scrape-array: task 1 .*attempt' "$log1" || true)
[ "$attempts" -eq 2 ] || die "requeue: task 1's log has $attempts attempts, not 2 (not appended?): $(cat "$log1")"
check_run requeue "$job" 8 "$t0"
resumed=$(jq .resumed "$WORK/requeue/out/shard-1.summary.json")
say "requeue: task 1 requeued after $before records (Restarts=$restarts); its second attempt kept $resumed records (--resume) and fetched the rest; its log holds both attempts"

# --- 6. another array size: the shard count follows -------------------------------
make_list 20
: >"$WORK/requests.log"
t0=$(date +%s.%N)
job=$(submit resize --array=0-3)
wait_job "$job"
check_run resize "$job" 4 "$t0"

# --- 7. the mistakes ---------------------------------------------------------
job=$(submit from-one --array=1-4)
wait_job "$job"
bad=$(task_states "$job" | grep -c ' FAILED 2:0$' || true)
[ "$bad" -eq 4 ] || die "from-one: expected 4 tasks FAILED with exit 2: $(task_states "$job")"
grep -q -- '--array=0-3' "$WORK/from-one/scrape-${job}_1.log" ||
    die "from-one: the log does not say how to fix it: $(cat "$WORK/from-one/scrape-${job}_1.log")"
if "$REPO/deploy/merge.sh" "$WORK/urls.txt" "$WORK/from-one/out" 2>"$WORK/from-one/merge.err"; then
    die "from-one: merge.sh accepted an empty run"
fi
say "from-one: --array=1-4 → 4 tasks FAILED (exit 2): $(grep -m1 'error' "$WORK/from-one/scrape-${job}_1.log")"

job=$(cd "$WORK" && mkdir -p nopath && cd nopath && SCRAPE=/nonexistent/scrape sbatch --parsable --array=0-1 \
    "$REPO/deploy/scrape-array.slurm" "$WORK/urls.txt" "$WORK/nopath/out")
wait_job "$job"
missing=$(task_states "$job" | grep -c ' FAILED 127:0$' || true)
[ "$missing" -eq 2 ] || die "nopath: expected exit 127: $(task_states "$job")"
grep -q 'not on PATH' "$WORK/nopath/scrape-${job}_0.log" || die "nopath: the log does not say why"
say "nopath: scrape not found → tasks FAILED (exit 127): $(head -n 1 "$WORK/nopath/scrape-${job}_0.log")"

say "all checks passed in $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}') s"
