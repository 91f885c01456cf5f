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
. bench/tiny_pages.sh
tiny_pages "$n" valgrind
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
