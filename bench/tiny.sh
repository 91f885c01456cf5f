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
. bench/tiny_pages.sh
tiny_pages "$n" curl wget2
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
