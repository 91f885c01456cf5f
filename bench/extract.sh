#!/usr/bin/env bash
# Scores and times `scrape --text` / `--markdown` / `--metadata` on public
# extraction corpora (issues 13 and 19), served on 127.0.0.1 by the
# fixture server.
#
#   bench/extract.sh --trafilatura DIR --aeb DIR --readability DIR
#       [--wcxb DIR [--wcxb-split dev|test]] [--out FILE]
#       [--threads N] [--rss-threads 2,1000] [--runs 3]
#
# Each DIR is a checkout of the corpus's repository (nothing of them is
# copied here):
#   --trafilatura   github.com/adbar/trafilatura         (tests/evaldata.json, tests/eval, tests/cache)
#   --aeb           github.com/scrapinghub/article-extraction-benchmark (ground-truth.json, html/)
#   --readability   github.com/mozilla/readability       (test/test-pages)
#   --wcxb          github.com/Murrough-Foley/web-content-extraction-benchmark
#                   (dev/ and test/: ground-truth/*.json, html/*.html.gz); tune on
#                   the dev split (the default), report the test split once
# Any one of them is enough. Speed (plain, --metadata, --text, --text
# --metadata; --threads 1, pinned to one core) is the median of --runs
# interleaved runs over all the pages given. When `python3 -c 'import trafilatura'` works,
# trafilatura runs on the same pages for its scores and speed beside
# scrape's. Needs cargo, python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin scrape --example fixture_server
exec python3 bench/extract.py \
    --scrape target/release/scrape \
    --server target/release/examples/fixture_server "$@"
