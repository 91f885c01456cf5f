#!/usr/bin/env bash
# What keeping and re-running cost (issue 14): --warc against the same run
# without it, a --since re-run of 10 000 pages of which 10 % changed, and
# --since over a million earlier records. About 5 minutes.
#
#   bench/archive.sh [--pages-dir DIR]   writes bench/ARCHIVE.md; W archives
#                                        DIR's saved pages (real HTML) when given
#   bench/archive.sh --quick             small sizes, one run: checks the script
#
# Needs: cargo, python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--out bench/ARCHIVE.md)
case "${1:-}" in
    --quick) args=(--out "$(mktemp -t scrape-archive.XXXXXX.md)" --runs 1 --pages 200
                   --since-urls 500 --prev-records 20000) ;;
    --pages-dir) args+=(--pages-dir "$2") ;;
    "") ;;
    *) echo "usage: bench/archive.sh [--quick | --pages-dir DIR]" >&2; exit 2 ;;
esac
cargo build --release --quiet --bin scrape --example fixture_server
python3 bench/archive.py --scrape target/release/scrape \
    --server target/release/examples/fixture_server "${args[@]}"
