# Sourced by bench/tiny.sh and bench/instructions.sh: N tiny pages
# (`<title>i</title>`) on nginx at 127.0.0.1 (one worker, pinned to the
# last core), the tools named after N installed with apt-get when missing
# (as root), scrape and the bare client built. Sets `work` (a temporary
# folder, removed on exit) and writes the URLs to "$work/list.txt".
#
#   . bench/tiny_pages.sh; tiny_pages N [TOOL...]
tiny_pages() {
    local n="$1"; shift
    local tool
    for tool in nginx "$@"; do
        command -v "$tool" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq "$tool" >/dev/null 2>&1; } || true
    done
    cargo build --release --quiet --bin scrape --example client_ceiling
    work="$(mktemp -d -t scrape-tiny.XXXXXX)"
    trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
    local port=$((20000 + RANDOM % 20000))
    local last=$(( $(nproc) - 1 ))
    mkdir -p "$work/www"
    local i
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
}
