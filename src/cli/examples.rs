//! The examples `--help` ends with and the man page's EXAMPLES section
//! shows.

/// What `--help` shows after the options.
pub const EXAMPLES: &str = "\
Examples:
  scrape urls.txt --threads 16 | jq 'select(.ok) | .title'  # titles of pages that loaded
  cat urls.txt | scrape -t 4 -o out.jsonl      # a list on standard input, records to a file
  scrape urls.txt --threads 1 > /dev/null      # the sequential baseline
  scrape urls.txt --compare --threads 16       # 1 thread vs 16, side by side
  scrape urls.txt --select h1=h1 --select 'img=img@src' --links  # fields and links
  scrape urls.txt --text --metadata            # readable text and structured data
  scrape urls.txt -o out.jsonl --resume        # after Ctrl-C: fetch the rest
  scrape urls.txt --since out.jsonl -o new.jsonl  # only download what changed
  echo https://blog.example/ | scrape --follow --text -o blog.jsonl  # a site, 3 links deep
  echo https://shop.example/ | scrape --sitemap --include /products/  # a shop, by its sitemaps
  scrape --completions bash > ~/.local/share/bash-completion/completions/scrape  # completion

Each input line gets one JSON record; `scrape --man` lists its fields, the
error kinds and the environment variables.
Exit codes: 0 done, 1 fatal (input or output unusable), 2 usage error,
3 --fail-on-error and some record has an error, 130 interrupted.";
