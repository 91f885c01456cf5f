#!/usr/bin/env bash
# Benchmarks scrape against its peers on a local fixture server (issue 4).
#
#   bench/run.sh                  every scenario (about 25 minutes), writes bench/RESULTS.md
#   bench/run.sh --quick          small lists, one run each: checks the harness works
#   bench/run.sh --only H,H0,M,R  some scenarios (see bench/harness.py, bench/scale.py)
#
# Needs: cargo, python3, GNU time. Uses when present (installs with apt-get
# when run as root and they are missing): wrk, hyperfine, wget2. Peers are
# run when found: curl (--parallel), wget2, xargs + curl, python3 with
# requests.
set -euo pipefail
cd "$(dirname "$0")/.."

extra=()
out="bench/RESULTS.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) extra+=(--quick); out="$(mktemp -t scrape-bench-quick.XXXXXX.md)" ;;
        --only) extra+=(--only "$2"); out="$(mktemp -t scrape-bench-some.XXXXXX.md)"; shift ;;
        *) echo "usage: bench/run.sh [--quick] [--only SCENARIOS]" >&2; exit 2 ;;
    esac
    shift
done

missing=""
for tool in time wrk hyperfine wget2; do
    bin="$tool"; [ "$tool" = time ] && bin=/usr/bin/time
    command -v "$bin" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench: installing$missing" >&2
    (apt-get update -qq && apt-get install -y -qq $missing) >/dev/null 2>&1 \
        || echo "bench: could not install$missing; those figures are skipped" >&2
fi

cargo build --release --quiet --bin scrape --example fixture_server --example client_ceiling

python3 bench/harness.py \
    --scrape target/release/scrape \
    --server target/release/examples/fixture_server \
    --ceiling target/release/examples/client_ceiling \
    --out "$out" "${extra[@]}"
