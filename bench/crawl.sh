#!/usr/bin/env bash
# The crawl benchmark (issue 22): scrape --follow beside wget2 --recursive
# on sites nginx serves on 127.0.0.x, one run, side by side.
#
#   bash bench/crawl.sh                 all of it (a few minutes), writes bench/CRAWL.md
#   bash bench/crawl.sh --quick         a 2 000-page site: checks the harness works
#
# A: 20 hosts, 100 000 pages of ~2 KiB, 10 links a page (bench/crawl_site.py
#    says which); seeds are each host's first page. Checked: the crawled set
#    equals the generator's (every page once, nothing outside), from the
#    records for scrape and from nginx's access log for both.
# B: the same site from its sitemaps (scrape --sitemap on the 20 site roots).
# C: one host, 20 000 pages of 2 KiB, 16 threads (the issue's "high bar").
# D: 10 000 000 discovered URLs: a link farm (bench/crawl_farm.py) whose 10 000
#    hub pages link to 1 000 new URLs each; peak RSS once all are in the
#    frontier (the crawl is stopped there: fetching them is not the point).
# E: C's crawl killed with SIGKILL at random moments and resumed until it
#    ends: the records checked against the set, the requests counted.
#
# wget2 runs as `wget2 --recursive --level inf --delete-after
# --max-threads T` (robots.txt obeyed, as scrape does by default; not
# --spider, which skips pages whose ETag it has seen). Needs: cargo,
# python3, GNU time, nginx and wget2 (installed with apt-get as root).
set -euo pipefail
cd "$(dirname "$0")/.."

pages=100000; hosts=20; single=20000; farm=10000; threads=16; out=bench/CRAWL.md
if [ "${1:-}" = --quick ]; then
    pages=2000; single=2000; farm=100; out="$(mktemp -t scrape-crawl-quick.XXXXXX.md)"
fi

for tool in nginx wget2; do
    if ! command -v "$tool" >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq "$tool" >/dev/null 2>&1 || true
    fi
done
cargo build --release --quiet --bin scrape
scrape="$PWD/target/release/scrape"
work="$(mktemp -d -t scrape-crawl.XXXXXX)"
trap 'kill $(cat "$work"/nginx.pid 2>/dev/null) 2>/dev/null || true; kill "${farm_pid:-}" 2>/dev/null || true; ${KEEP:+true} rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))

# nginx on 127.0.0.1..N:PORT, a root per host; one worker: the client has
# the other core.
serve() { # DIR HOSTS
    local dir="$1" n="$2" conf="$work/nginx.conf"
    kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    sleep 0.5
    {
        # As root, nginx's workers would be www-data, who cannot read $work.
        [ "$(id -u)" = 0 ] && echo "user root;"
        echo "worker_processes 1; pid $work/nginx.pid; error_log $work/error.log;"
        echo "events { worker_connections 4096; }"
        echo "http { log_format crawl '\$server_addr:\$server_port \$request_uri \$status';"
        echo "access_log $work/access.log crawl; keepalive_requests 100000;"
        for h in $(seq 0 $((n - 1))); do
            echo "server { listen 127.0.0.$((h + 1)):$port; root $dir/h$h; }"
        done
        echo "}"
    } > "$conf"
    nginx -c "$conf" -p "$work"
    sleep 0.5
}

measure() { # NAME COMMAND...: wall s, CPU s, peak RSS MiB into $work/NAME.time
    local name="$1"; shift
    : > "$work/access.log"
    kill -USR1 "$(cat "$work/nginx.pid")" 2>/dev/null || true
    /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" || true
    cp "$work/access.log" "$work/$name.log"
}

row() { # NAME LABEL PAGES
    read -r wall user sys rss < <(tail -1 "$work/$1.time")
    python3 - "$1" "$2" "$3" "$wall" "$user" "$sys" "$rss" "$work" <<'EOF'
import sys
name, label, pages, wall, user, sys_, rss, work = sys.argv[1:]
pages, wall, cpu = int(pages), float(wall), float(user) + float(sys_)
print(f"| {label} | {pages} | {wall:.2f} | {pages / wall:.0f} | {cpu:.2f} | {int(rss) / 1024:.1f} |")
EOF
}

header() { # TITLE: a section and its table's head
    echo "## $1"
    echo
    echo "| crawler | pages | wall s | pages/s | CPU s | peak RSS MiB |"
    echo "|---|---|---|---|---|---|"
}

served() { # NAME: the page URLs nginx answered (status 200, .html)
    awk '$3 == 200 && $2 ~ /\.html$/ {print "http://" $1 $2}' "$work/$1.log" | sort
}

check() { # NAME EXPECTED PAGES-FROM: one line saying whether the set is exact
    python3 - "$@" <<'EOF'
import sys, collections
name, expected, got = sys.argv[1], sys.argv[2], sys.argv[3]
want = collections.Counter(open(expected).read().split())
have = collections.Counter(open(got).read().split())
missing = sum((want - have).values())
extra = sum((have - want).values())
twice = sum(1 for k, v in have.items() if v > 1)
ok = "exact" if (missing, extra, twice) == (0, 0, 0) else "NOT exact"
print(f"{name}: {ok}: {sum(have.values())} pages served, {missing} missing, {extra} outside the set or repeated, {twice} fetched twice")
EOF
}

{
echo "# Crawl benchmark"
echo
echo "\`bash bench/crawl.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores; nginx $(nginx -v 2>&1 | cut -d/ -f2), $(wget2 --version | head -1 | cut -d' ' -f3) wget2; one run, side by side."
echo
} > "$out"

# A and B: 20 hosts, 100 000 pages.
mkdir -p "$work/site"
python3 bench/crawl_site.py "$work/site" --hosts "$hosts" --pages "$pages" --port "$port"
serve "$work/site" "$hosts"
measure scrapeA "$scrape" "$work/site/seeds.txt" --follow --depth 1000 -t "$threads" -o "$work/a.jsonl" -q
served scrapeA > "$work/scrapeA.served"
measure wget2A wget2 --recursive --level inf --delete-after --max-threads "$threads" -q -P "$work/w" -i "$work/site/seeds.txt"
served wget2A > "$work/wget2A.served"
measure scrapeB "$scrape" "$work/site/roots.txt" --sitemap -t "$threads" -o "$work/b.jsonl" -q
served scrapeB > "$work/scrapeB.served"
{
header "A: $hosts hosts, $pages pages, 10 links a page, $threads threads"
row scrapeA "scrape --follow" "$(wc -l < "$work/scrapeA.served")"
row wget2A "wget2 --recursive" "$(wc -l < "$work/wget2A.served")"
row scrapeB "scrape --sitemap" "$(wc -l < "$work/scrapeB.served")"
echo
check "scrape --follow (nginx log)" "$work/site/expected.txt" "$work/scrapeA.served"
echo
jq -r .url "$work/a.jsonl" | sort > "$work/a.urls"
check "scrape --follow (records)" "$work/site/expected.txt" "$work/a.urls"
echo
check "wget2 (nginx log)" "$work/site/expected.txt" "$work/wget2A.served"
echo
check "scrape --sitemap (nginx log)" "$work/site/expected.txt" "$work/scrapeB.served"
echo
} >> "$out"
rm -rf "$work/site" "$work/w"

# C: one host, 20 000 pages.
mkdir -p "$work/one"
python3 bench/crawl_site.py "$work/one" --hosts 1 --pages "$single" --port "$port"
serve "$work/one" 1
measure scrapeC "$scrape" "$work/one/seeds.txt" --follow --depth 1000 -t 16 -o "$work/c.jsonl" -q
served scrapeC > "$work/scrapeC.served"
measure wget2C wget2 --recursive --level inf --delete-after --max-threads 16 -q -P "$work/w" -i "$work/one/seeds.txt"
served wget2C > "$work/wget2C.served"
{
header "C: one host, $single pages of 2 KiB, 16 threads"
row scrapeC "scrape --follow" "$(wc -l < "$work/scrapeC.served")"
row wget2C "wget2 --recursive" "$(wc -l < "$work/wget2C.served")"
echo
check "scrape --follow" "$work/one/expected.txt" "$work/scrapeC.served"
echo
check "wget2" "$work/one/expected.txt" "$work/wget2C.served"
echo
} >> "$out"

# E: C's site again, killed with SIGKILL at random moments and resumed until
# a run ends by itself.
: > "$work/access.log"
kill -USR1 "$(cat "$work/nginx.pid")" 2>/dev/null || true
kills=0
resume=()
while :; do
    "$scrape" "$work/one/seeds.txt" --follow --depth 1000 -t 16 -o "$work/e.jsonl" -q "${resume[@]}" &
    pid=$!
    sleep "0.$((RANDOM % 6 + 1))"
    if kill -0 "$pid" 2>/dev/null && [ "$kills" -lt 5 ]; then
        kill -9 "$pid"; wait "$pid" 2>/dev/null || true
        kills=$((kills + 1)); resume=(--resume)
    else
        wait "$pid" || true
        break
    fi
done
cp "$work/access.log" "$work/E.log"
served E > "$work/E.served"
jq -r .url "$work/e.jsonl" | sort > "$work/e.urls"
{
echo "## E: C's crawl killed with SIGKILL $kills times at random moments, then --resume"
echo
check "requests (nginx log, all runs)" "$work/one/expected.txt" "$work/E.served"
echo
check "records (the one output)" "$work/one/expected.txt" "$work/e.urls"
echo
echo "A page being fetched when the process is killed, or whose record was not yet written, has no record and is fetched again by the resumed run."
echo
} >> "$out"

# D: 10 000 000 discovered URLs, the frontier spilled.
python3 bench/crawl_farm.py "$((port + 1))" "$farm" > "$work/farm.ready" &
farm_pid=$!
until grep -q READY "$work/farm.ready" 2>/dev/null; do sleep 0.2; done
kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
echo "http://127.0.0.1:$((port + 1))/hub" > "$work/farm.txt"
/usr/bin/time -f "%e %U %S %M" -o "$work/D.time" \
    "$scrape" "$work/farm.txt" --follow --no-robots --depth 2 -t 16 -o "$work/d.jsonl" -q \
    --summary-json "$work/d.summary" &
pid=$!
# Once the hub and all farm pages have records, every URL is in the frontier.
while kill -0 "$pid" 2>/dev/null && [ "$(wc -l < "$work/d.jsonl" 2>/dev/null || echo 0)" -lt $((farm + 1)) ]; do sleep 1; done
sleep 2
du -sh "$work/d.jsonl.frontier" > "$work/D.spill" 2>/dev/null || echo "? none" > "$work/D.spill"
pkill -INT -f "scrape $work/farm.txt" || true
wait "$pid" || true
read -r wall user sys rss < <(tail -1 "$work/D.time")
{
echo "## D: $((farm * 1000)) discovered URLs"
echo
echo "scrape --follow --depth 2 -t 16 on a link farm ($farm pages of 1 000 new links each), stopped with Ctrl-C once every farm page had its record: peak RSS $(python3 -c "print(f'{$rss/1024:.1f}')") MiB, frontier on disk $(cut -f1 "$work/D.spill")."
echo
} >> "$out"
cat "$out"
