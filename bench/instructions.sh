#!/usr/bin/env bash
# Instructions per URL, counted rather than timed (issue 23): N tiny pages
# from nginx fetched under valgrind's callgrind by scrape and by the bare
# reqwest::blocking client it is built on (examples/client_ceiling.rs).
# Counts do not move with the machine's load, so a change to scrape's
# per-URL work shows here when timed benchmarks (bench/tiny.sh) drown it
# in noise. User-space instructions only: the kernel's share (sockets,
# thread switches) is not counted. Prints both totals, the difference per
# URL, and scrape's heaviest functions (inclusive).
#
#   bash bench/instructions.sh [URLS] [THREADS]      (default 2000 16)
#
# Needs nginx and valgrind (installed with apt-get as root).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"; t="${2:-16}"
for tool in nginx valgrind; do
    command -v "$tool" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq "$tool" >/dev/null 2>&1; } || true
done
cargo build --release --quiet --bin scrape --example client_ceiling
work="$(mktemp -d -t scrape-instr.XXXXXX)"
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/www"
for i in $(seq 0 $((n - 1))); do echo "<title>$i</title>" > "$work/www/p$i.html"; done
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "worker_processes 1; pid $work/nginx.pid; error_log $work/error.log;"
    echo "events { worker_connections 1024; }"
    echo "http { access_log off; keepalive_requests 100000;"
    echo "server { listen 127.0.0.1:$port; root $work/www; } }"
} > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
for i in $(seq 0 $((n - 1))); do echo "http://127.0.0.1:$port/p$i.html"; done > "$work/list.txt"
count() { # OUT COMMAND...
    local out="$1"; shift
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" > /dev/null 2> "$out.log"
    grep -o 'refs: *[0-9,]*' "$out.log" | tr -dc '0-9'
}
scrape=$(count "$work/scrape.cg" target/release/scrape "$work/list.txt" -t "$t" -q)
bare=$(count "$work/bare.cg" target/release/examples/client_ceiling "$work/list.txt" "$t")
echo "| client | instructions | per URL |"
echo "|---|---|---|"
echo "| scrape -t $t | $scrape | $((scrape / n)) |"
echo "| bare reqwest::blocking, $t threads | $bare | $((bare / n)) |"
echo
echo "scrape's own work: $(((scrape - bare) / n)) instructions a URL more than the bare client"
echo "(start-up included in both: loading the system's CA roots is ~19 M in scrape)."
echo
echo "scrape's heaviest functions, inclusive, per URL:"
callgrind_annotate --inclusive=yes "$work/scrape.cg" 2>/dev/null \
    | grep -E '^ *[0-9,]+ .*(scrape::(html|output|input|urls|record|fetch::(body|attempt|sockets|timing))|serde_json::ser::format_escaped_str)' \
    | head -20 \
    | while read -r count rest; do
        c=$(echo "$count" | tr -dc '0-9')
        name=$(echo "$rest" | sed -E 's/^\([^)]*\) +//; s/^\?\?\?://; s/ \[.*$//')
        printf '%8d  %s\n' $((c / n)) "$name"
    done
