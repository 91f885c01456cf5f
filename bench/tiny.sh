#!/usr/bin/env bash
# CPU per URL on tiny pages (issue 23): N URLs of a few bytes from nginx
# (one worker, pinned to the last core), each client pinned to core 0 with
# taskset, one run each, side by side: scrape, the bare reqwest::blocking
# client scrape is built on (examples/client_ceiling.rs: the same requests,
# nothing else), curl --parallel, wget2. CPU is the client's user + system
# time from /usr/bin/time.
#
#   bash bench/tiny.sh [URLS] [THREADS]      (default 20000 16)
#
# Needs nginx, curl, wget2 and taskset (installed with apt-get as root).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"; t="${2:-16}"
for tool in nginx curl wget2; do
    command -v "$tool" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq "$tool" >/dev/null 2>&1; } || true
done
cargo build --release --quiet --bin scrape --example client_ceiling
work="$(mktemp -d -t scrape-tiny.XXXXXX)"
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
last=$(( $(nproc) - 1 ))
mkdir -p "$work/www"
for i in $(seq 0 $((n - 1))); do echo "<title>$i</title>" > "$work/www/p$i.html"; done
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "worker_processes 1; worker_cpu_affinity $(printf '1%0*d' "$last" 0); pid $work/nginx.pid; error_log $work/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; keepalive_requests 100000;"
    echo "server { listen 127.0.0.1:$port; root $work/www; } }"
} > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
for i in $(seq 0 $((n - 1))); do echo "http://127.0.0.1:$port/p$i.html"; done > "$work/list.txt"
sed 's/^/url = /' "$work/list.txt" > "$work/curl.cfg"
echo "| client (pinned to core 0) | wall s | CPU s | CPU µs per URL |"
echo "|---|---|---|---|"
run() { # LABEL COMMAND...
    local label="$1"; shift
    /usr/bin/time -f "%e %U %S" -o "$work/time" taskset -c 0 "$@" > /dev/null 2>&1 || true
    read -r wall user sys < <(tail -1 "$work/time")
    cpu=$(echo "$user + $sys" | bc)
    echo "| $label | $wall | $cpu | $(echo "scale=1; $cpu * 1000000 / $n" | bc) |"
}
run "scrape -t $t" target/release/scrape "$work/list.txt" -t "$t" -q
run "bare reqwest::blocking, $t threads" target/release/examples/client_ceiling "$work/list.txt" "$t"
run "curl --parallel --parallel-max $t" curl --parallel --parallel-max "$t" -s -o /dev/null -K "$work/curl.cfg"
run "wget2 --max-threads $t" wget2 --max-threads "$t" -q -O /dev/null -i "$work/list.txt"
