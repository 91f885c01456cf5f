#!/usr/bin/env bash
# HTTP/2 beside HTTP/1.1 (issue 23): 10 000 HTTPS URLs on one nginx host
# with HTTP/2 on, self-signed; scrape with and without --http2, curl
# --http2 --parallel and wget2, one run each, side by side; wall, CPU and
# the TCP connections nginx accepted ($connection ids in its log).
#
#   bash bench/http2.sh [URLS] [THREADS]      (default 10000 16)
#
# Needs nginx, openssl, curl and wget2 (installed with apt-get as root).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; t="${2:-16}"
for tool in nginx openssl curl wget2; do
    command -v "$tool" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq "$tool" >/dev/null 2>&1; } || true
done
cargo build --release --quiet --bin scrape
work="$(mktemp -d -t scrape-h2.XXXXXX)"
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/www"
for i in $(seq 0 $((n - 1))); do echo "<title>$i</title>" > "$work/www/p$i.html"; done
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "worker_processes 1; pid $work/nginx.pid; error_log $work/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { log_format c '\$connection \$server_protocol'; access_log $work/access.log c;"
    echo "keepalive_requests 100000; http2_max_concurrent_streams 128;"
    echo "server { listen 127.0.0.1:$port ssl http2; ssl_certificate $work/cert.pem;"
    echo "ssl_certificate_key $work/key.pem; root $work/www; } }"
} > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
for i in $(seq 0 $((n - 1))); do echo "https://127.0.0.1:$port/p$i.html"; done > "$work/list.txt"
sed 's/^/url = /' "$work/list.txt" > "$work/curl.cfg"
echo "| client | wall s | CPU s | requests | connections | protocol |"
echo "|---|---|---|---|---|---|"
run() { # LABEL COMMAND...
    local label="$1"; shift
    : > "$work/access.log"; kill -USR1 "$(cat "$work/nginx.pid")"; sleep 0.2
    /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" > /dev/null 2>&1 || true
    read -r wall user sys < <(tail -1 "$work/time")
    conns=$(cut -d' ' -f1 "$work/access.log" | sort -u | wc -l)
    proto=$(cut -d' ' -f2 "$work/access.log" | sort | uniq -c | sort -rn | head -1 | awk '{print $2}')
    reqs=$(wc -l < "$work/access.log")
    echo "| $label | $wall | $(echo "$user + $sys" | bc) | $reqs | $conns | $proto |"
}
run "scrape -t $t" target/release/scrape "$work/list.txt" -t "$t" --insecure -q
run "scrape -t $t --http2" target/release/scrape "$work/list.txt" -t "$t" --insecure --http2 -q
run "curl --http2 --parallel --parallel-max $t" curl --http2 --parallel --parallel-max "$t" -k -s -o /dev/null -K "$work/curl.cfg"
run "wget2 --max-threads $t" wget2 --max-threads "$t" --no-check-certificate -q -O /dev/null -i "$work/list.txt"
