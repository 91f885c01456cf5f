#!/bin/bash
# A few machines over ssh with GNU parallel: shard k of N runs on the k-th
# host, and the outputs are copied back and merged.
#
#   deploy/parallel-ssh.sh urls.txt host1 host2 host3
#
# Each host needs `scrape` on its PATH. The list is copied to each host.
set -euo pipefail
LIST="${1:?usage: parallel-ssh.sh LIST HOST...}"
shift
HOSTS=("$@")
N=${#HOSTS[@]}
[ "$N" -gt 0 ] || { echo "usage: parallel-ssh.sh LIST HOST..." >&2; exit 2; }

mkdir -p shards
parallel --link --jobs "$N" \
    'scp -q {2} {1}:/tmp/scrape-list.txt &&
     ssh {1} "scrape /tmp/scrape-list.txt --shard {3}/'"$N"' --per-host 2 -q" > shards/shard-{3}.jsonl' \
    ::: "${HOSTS[@]}" ::: "$LIST" ::: $(seq 0 $((N - 1)))
cat shards/shard-*.jsonl > all.jsonl
echo "merged $(wc -l < all.jsonl) records into all.jsonl" >&2
