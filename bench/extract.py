"""Scores `scrape --text` and `--markdown` on three public corpora, and
times them (issue 13; run by bench/extract.sh, which documents the options).

Each corpus is given as a path to a checkout of its repository; nothing of
them is copied into this repository. Their pages are served by the fixture
server (`--dir`, as saved: bytes as they are, `Content-Type: text/html`
without a charset), scrape fetches them over 127.0.0.1, and the records are
scored the way each corpus's authors score:

- trafilatura (`tests/evaldata.json`, pages in `tests/eval` or `tests/cache`):
  per page, each "with" snippet found in the text (whitespace-normalised
  substring) is a true positive, each missing one a false negative, each
  "without" snippet found a false positive; precision, recall and F1 over
  the sums (trafilatura's tests/eval_common.py).
- article-extraction-benchmark (`ground-truth.json`, `html/*.html.gz`):
  4-token shingles of `\\w+` tokens, TP/FP/FN per page normalised to sum 1,
  precision and recall averaged over pages, F1 of the two averages (its
  evaluate.py).
- Mozilla Readability (`test/test-pages/*/source.html`, `expected.html`):
  lower-cased `\\w+` tokens of `text` against those of expected.html's text,
  as multisets; F1 per page, averaged.
- WCXB, the Web Content Extraction Benchmark (`dev/` or `test/`:
  `ground-truth/*.json`, `html/*.html.gz`; issue 19): pages of seven kinds
  (article, forum, product, collection, listing, documentation, service);
  word-bag F1 of lower-cased `\\w+` tokens against `main_content`, per page,
  averaged — overall and per kind — as its evaluate.py does. Also the share
  of pages whose `page_type` is the annotated kind. Tune on `dev`; `test` is
  the held-out split.

Markdown is scored after its syntax is stripped (markup_to_text below). When
trafilatura is importable, it is run on the same pages (one core, in this
process) for its scores and pages/s beside scrape's.
"""

import argparse
import gzip
import html.parser
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from common import Server, log  # noqa: E402

WORD = re.compile(r"\w+", re.UNICODE)


# ---------------------------------------------------------------- corpora


def trafilatura_corpus(root):
    """(name, bytes, truth) per page of trafilatura's benchmark."""
    tests = os.path.join(root, "tests")
    with open(os.path.join(tests, "evaldata.json"), encoding="utf-8") as f:
        data = json.load(f)
    pages = []
    for url in sorted(data):
        item = data[url]
        for sub in ("cache", "eval"):
            path = os.path.join(tests, sub, item["file"])
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    pages.append((item["file"], f.read(), item))
                break
        else:
            raise SystemExit(f"bench: {item['file']} not found under {tests}")
    return pages


def aeb_corpus(root):
    with open(os.path.join(root, "ground-truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    pages = []
    for key in sorted(truth):
        with gzip.open(os.path.join(root, "html", f"{key}.html.gz"), "rb") as f:
            pages.append((f"{key}.html", f.read(), truth[key]))
    return pages


class TextOf(html.parser.HTMLParser):
    """The text of an HTML document, words kept apart."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(markup):
    p = TextOf()
    p.feed(markup)
    p.close()
    return "".join(p.parts)


def wcxb_corpus(root, split):
    """(name, bytes, truth) per page of a WCXB split; truth has the main
    content and the annotated kind."""
    base = os.path.join(root, split)
    pages = []
    for name in sorted(os.listdir(os.path.join(base, "ground-truth"))):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(base, "ground-truth", name), encoding="utf-8") as f:
            data = json.load(f)
        kind = ((data.get("_internal") or {}).get("page_type") or {})
        kind = kind.get("primary", "article") if isinstance(kind, dict) else (kind or "article")
        kind = "collection" if kind == "category" else kind
        truth = {"main": (data.get("ground_truth") or {}).get("main_content") or "", "kind": kind}
        stem = name[:-5]
        with gzip.open(os.path.join(base, "html", f"{stem}.html.gz"), "rb") as f:
            pages.append((f"{stem}.html", f.read(), truth))
    return pages


def readability_corpus(root):
    base = os.path.join(root, "test", "test-pages")
    pages = []
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        source, expected = os.path.join(d, "source.html"), os.path.join(d, "expected.html")
        if not (os.path.isfile(source) and os.path.isfile(expected)):
            continue
        with open(source, "rb") as f:
            body = f.read()
        with open(expected, encoding="utf-8") as f:
            truth = html_text(f.read())
        pages.append((f"{name}.html", body, truth))
    return pages


# ---------------------------------------------------------------- scoring


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


def score_trafilatura(pages, texts):
    tp = fp = fn = tn = 0
    for name, _, item in pages:
        text = texts.get(name)
        if isinstance(text, str):
            t = norm(text)
            hit = sum(1 for w in item["with"] if norm(w) in t)
            bad = sum(1 for w in item["without"] if norm(w) in t)
        else:
            hit = bad = 0
        tp, fn = tp + hit, fn + len(item["with"]) - hit
        fp, tn = fp + bad, tn + len(item["without"]) - bad
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return p, r, f1


def shingles(text, n=4):
    tokens = WORD.findall(text or "")
    out = [tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))]
    return Counter(s for s in out if s)


def score_aeb(pages, texts):
    precisions, recalls = [], []
    for name, _, item in pages:
        true, pred = shingles(item.get("articleBody", "")), shingles(texts.get(name) or "")
        tp = fp = fn = 0.0
        for key in set(true) | set(pred):
            t, p = true.get(key, 0), pred.get(key, 0)
            tp, fp, fn = tp + min(t, p), fp + max(0, p - t), fn + max(0, t - p)
        s = tp + fp + fn
        if s > 0:
            tp, fp, fn = tp / s, fp / s, fn / s
        if tp + fp > 0:
            precisions.append(1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp)))
        if tp + fn > 0:
            recalls.append(1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn)))
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def word_prf(got_text, want_text):
    """Word-bag precision, recall, F1 of lower-cased \\w+ tokens."""
    want = Counter(w.lower() for w in WORD.findall(want_text or ""))
    got = Counter(w.lower() for w in WORD.findall(got_text or ""))
    if not want:
        # WCXB's evaluate.py: an empty truth is matched by an empty text.
        return (1.0, 1.0, 1.0) if not got else (0.0, 0.0, 0.0)
    common = sum((want & got).values())
    p = common / sum(got.values()) if got else 0.0
    r = common / sum(want.values())
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def score_readability(pages, texts):
    scores = [word_prf(texts.get(name), truth) for name, _, truth in pages]
    return tuple(statistics.mean(s[i] for s in scores) for i in range(3))


KINDS = ["article", "forum", "product", "collection", "listing", "documentation", "service"]


def score_wcxb(pages, texts):
    scores = [word_prf(texts.get(name), truth["main"]) for name, _, truth in pages]
    return tuple(statistics.mean(s[i] for s in scores) for i in range(3))


def wcxb_by_kind(pages, texts):
    """{kind: (pages, F1)} for the WCXB pages."""
    by = {}
    for name, _, truth in pages:
        by.setdefault(truth["kind"], []).append(word_prf(texts.get(name), truth["main"])[2])
    return {k: (len(v), statistics.mean(v)) for k, v in by.items()}


SCORERS = {"trafilatura": score_trafilatura, "aeb": score_aeb, "readability": score_readability,
           "wcxb": score_wcxb}
TITLES = {
    "trafilatura": "trafilatura benchmark",
    "aeb": "article-extraction-benchmark",
    "readability": "Readability test pages",
    "wcxb": "WCXB",
}


BLOCKS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
          "blockquote", "table", "tr", "td", "th", "thead", "tbody", "hr", "br"}


class RenderedText(html.parser.HTMLParser):
    """The text a reader sees in rendered HTML: blocks on their own lines,
    inline elements joined as written, images (alt text) not read."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def markup_to_text(md):
    """Markdown with its syntax stripped: rendered by a CommonMark parser
    (markdown-it-py, with GFM tables), then the text a reader of the
    rendered page reads."""
    if md is None:
        return None
    from markdown_it import MarkdownIt
    p = RenderedText()
    p.feed(MarkdownIt("commonmark").enable("table").render(md))
    p.close()
    return "".join(p.parts)


# ---------------------------------------------------------------- running


def pinning():
    """(command prefix for scrape, for the server): with taskset and two or
    more cores, scrape's speed runs get core 0 alone and the server the
    others, so that "pages/s" is what one core does; else nothing."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", "0"], ["taskset", "-c", f"1-{os.cpu_count() - 1}"]
    return [], []


def run_scrape(scrape, server, names, flags, threads, workdir, pin=()):
    """scrape with `flags` over every page; (records by page, measured)."""
    listing = os.path.join(workdir, "list.txt")
    with open(listing, "w") as f:
        for corpus, name in names:
            f.write(f"{server.base}/files/{corpus}/{name}\n")
    out = os.path.join(workdir, "out.jsonl")
    timing = os.path.join(workdir, "time")
    cmd = [*pin, "/usr/bin/time", "-f", "%e %U %S %M", "-o", timing, scrape, listing,
           *flags, "--threads", str(threads), "-q", "-o", out]
    wall0 = time.perf_counter()
    rc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - wall0
    if rc.returncode != 0:
        raise SystemExit(f"bench: scrape failed ({rc.returncode}): {rc.stderr}")
    with open(timing) as f:
        _, user, sys_, rss = (float(x) for x in f.read().split()[-4:])
    records = {}
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            # `input` is the line as written: the URL before percent-encoding.
            records[tuple(r["input"].split("/files/", 1)[1].split("/", 1))] = r
    measured = {"wall": wall, "cpu": user + sys_, "rss_mib": rss / 1024, "pages": len(names)}
    return records, measured


def texts_of(records, mode):
    """(texts by page, pages without, notes by their first words)."""
    texts, empty, notes = {}, [], Counter()
    for key, r in records.items():
        value = r.get(mode)
        texts[key] = value
        if not value:
            empty.append("/".join(key))
        if r.get("extract_note"):
            notes[r["extract_note"].split(":")[0]] += 1
    return texts, empty, notes


def run_trafilatura(corpora):
    """trafilatura's own extract() on the same bytes, one core; None when
    it is not installed."""
    try:
        import trafilatura
    except ImportError:
        return None
    texts = {}
    t0 = time.process_time()
    for corpus, pages in corpora.items():
        for name, body, _ in pages:
            try:
                texts[(corpus, name)] = trafilatura.extract(
                    body, include_comments=False, include_tables=True, include_formatting=False)
            except Exception:  # a crash is a miss, as its own benchmark counts it
                texts[(corpus, name)] = None
    cpu = time.process_time() - t0
    return texts, cpu, getattr(trafilatura, "__version__", "?")


def scores_of(corpora, texts, transform=None):
    result = {}
    for corpus, pages in corpora.items():
        mine = {}
        for name, _, _ in pages:
            t = texts.get((corpus, name))
            mine[name] = transform(t) if transform else t
        result[corpus] = SCORERS[corpus](pages, mine)
    return result


SPEED_RUNS = [
    ("plain", []),
    ("--metadata", ["--metadata"]),
    ("--text", ["--text"]),
    ("--text --metadata", ["--text", "--metadata"]),
]


def speed(scrape, server, names, workdir, runs, pin):
    """CPU and pages/s of each SPEED_RUNS entry on one core, the runs
    interleaved, medians of `runs`."""
    samples = {label: [] for label, _ in SPEED_RUNS}
    for _ in range(runs):
        for label, flags in SPEED_RUNS:
            _, measured = run_scrape(scrape, server, names, flags, 1, workdir, pin)
            samples[label].append(measured)
    out = {}
    for label, ms in samples.items():
        out[label] = {
            "cpu_ms": statistics.median(m["cpu"] / m["pages"] * 1000 for m in ms),
            "pages_s": statistics.median(m["pages"] / m["wall"] for m in ms),
            "rss_mib": statistics.median(m["rss_mib"] for m in ms),
        }
        log(f"{label}: {out[label]['pages_s']:.0f} pages/s, {out[label]['cpu_ms']:.3f} ms CPU a page")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scrape", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--trafilatura")
    ap.add_argument("--aeb")
    ap.add_argument("--readability")
    ap.add_argument("--wcxb")
    ap.add_argument("--wcxb-split", default="dev")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rss-threads", default="2,1000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()

    corpora = {}
    if args.trafilatura:
        corpora["trafilatura"] = trafilatura_corpus(args.trafilatura)
    if args.aeb:
        corpora["aeb"] = aeb_corpus(args.aeb)
    if args.readability:
        corpora["readability"] = readability_corpus(args.readability)
    if args.wcxb:
        corpora["wcxb"] = wcxb_corpus(args.wcxb, args.wcxb_split)
    if not corpora:
        raise SystemExit("bench: give at least one of --trafilatura, --aeb, --readability, --wcxb")

    workdir = tempfile.mkdtemp(prefix="scrape-extract-")
    pages_dir = os.path.join(workdir, "pages")
    names = []
    for corpus, pages in corpora.items():
        os.makedirs(os.path.join(pages_dir, corpus))
        for name, body, _ in pages:
            with open(os.path.join(pages_dir, corpus, name), "wb") as f:
                f.write(body)
            names.append((corpus, name))
    log(f"{len(names)} pages: " + ", ".join(f"{c} {len(p)}" for c, p in corpora.items()))
    pin_scrape, pin_server = pinning()
    server = Server(pin_server + [args.server] if pin_server else args.server,
                    os.cpu_count() or 1, ["--dir", pages_dir])
    report = {"pages": len(names), "modes": {}, "rss": {}, "pinned": bool(pin_scrape),
              "split": args.wcxb_split}
    try:
        for mode in ("text", "markdown"):
            records, measured = run_scrape(
                args.scrape, server, names, [f"--{mode}"], args.threads, workdir, pin_scrape)
            texts, empty, notes = texts_of(records, mode)
            transform = markup_to_text if mode == "markdown" else None
            entry = {"scores": scores_of(corpora, texts, transform), "measured": measured,
                     "empty": empty, "notes": dict(notes)}
            if "wcxb" in corpora:
                mine = {name: (transform(texts.get(("wcxb", name))) if transform
                               else texts.get(("wcxb", name)))
                        for name, _, _ in corpora["wcxb"]}
                entry["kinds"] = wcxb_by_kind(corpora["wcxb"], mine)
                kinds = [(truth["kind"], records.get(("wcxb", name), {}).get("page_type"))
                         for name, _, truth in corpora["wcxb"]]
                entry["kind_accuracy"] = sum(a == b for a, b in kinds) / len(kinds)
            report["modes"][mode] = entry
            log(f"{mode}: " + ", ".join(f"{c} F1 {s[2]:.3f}" for c, s in entry["scores"].items()))
        report["speed"] = speed(args.scrape, server, names, workdir, args.runs, pin_scrape)
        for t in (int(x) for x in args.rss_threads.split(",") if x):
            _, measured = run_scrape(args.scrape, server, names, ["--text", "--metadata"], t,
                                     workdir)
            report["rss"][t] = measured
            log(f"--text --metadata --threads {t}: peak RSS {measured['rss_mib']:.1f} MiB")
    finally:
        server.stop()

    theirs = run_trafilatura(corpora)
    if theirs:
        texts, cpu, version = theirs
        report["trafilatura"] = {"version": version, "scores": scores_of(corpora, texts),
                                 "cpu": cpu, "pages": len(names)}
        if "wcxb" in corpora:
            mine = {name: texts.get(("wcxb", name)) for name, _, _ in corpora["wcxb"]}
            report["trafilatura"]["kinds"] = wcxb_by_kind(corpora["wcxb"], mine)
        log(f"trafilatura {version}: {len(names) / cpu:.0f} pages/s on one core")
    shutil.rmtree(workdir, ignore_errors=True)
    text = render(report, args)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


def render(report, args):
    lines = [
        "# Extraction benchmark",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `bench/extract.sh` "
        f"on {os.cpu_count()} cores: {report['pages']} pages served on 127.0.0.1, "
        f"`scrape --text` / `--markdown --threads {args.threads}` for the scores; speed "
        f"with `--threads 1`, medians of {args.runs} interleaved runs"
        + (", scrape alone on one core (`taskset -c 0`), the server on the others."
           if report["pinned"] else "."),
        "",
        "| corpus | mode | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for mode, m in report["modes"].items():
        for corpus, (p, r, f1) in m["scores"].items():
            lines.append(f"| {TITLES[corpus]} | scrape --{mode} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    if "trafilatura" in report:
        t = report["trafilatura"]
        for corpus, (p, r, f1) in t["scores"].items():
            lines.append(f"| {TITLES[corpus]} | trafilatura {t['version']} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    text = report["modes"].get("text", {})
    if "kinds" in text:
        theirs = report.get("trafilatura", {}).get("kinds", {})
        lines += ["", f"WCXB `{report['split']}` split by kind (word F1; `page_type` matches the "
                  f"annotated kind on {text['kind_accuracy']:.1%} of the pages):", "",
                  "| kind | pages | scrape --text | scrape --markdown | trafilatura |",
                  "|---|---|---|---|---|"]
        md = report["modes"].get("markdown", {}).get("kinds", {})
        for kind in KINDS:
            if kind not in text["kinds"]:
                continue
            n, f = text["kinds"][kind]
            row = f"| {kind} | {n} | {f:.3f} | {md.get(kind, (0, 0))[1]:.3f} |"
            row += f" {theirs[kind][1]:.3f} |" if kind in theirs else " |"
            lines.append(row)
    lines += ["", "| run | pages/s (wall) | CPU ms a page | peak RSS MiB | CPU over plain |",
              "|---|---|---|---|---|"]
    plain = report["speed"]["plain"]["cpu_ms"]
    for label, x in report["speed"].items():
        over = f"{x['cpu_ms'] / plain - 1:+.0%}" if label != "plain" else ""
        lines.append(f"| scrape {label} --threads 1 | {x['pages_s']:.0f} | {x['cpu_ms']:.2f} | "
                     f"{x['rss_mib']:.1f} | {over} |")
    for t, x in report["rss"].items():
        lines.append(f"| scrape --text --metadata --threads {t} | {x['pages'] / x['wall']:.0f} | "
                     f"{x['cpu'] / x['pages'] * 1000:.2f} | {x['rss_mib']:.1f} | |")
    if "trafilatura" in report:
        t = report["trafilatura"]
        lines.append(f"| trafilatura {t['version']} (Python, in process, one core) | "
                     f"{t['pages'] / t['cpu']:.0f} | {t['cpu'] / t['pages'] * 1000:.2f} | | |")
    for mode, m in report["modes"].items():
        if m["empty"]:
            lines += ["", f"Empty `{mode}` ({len(m['empty'])}): " + ", ".join(m["empty"][:20])]
        if m["notes"]:
            lines += ["", f"Notes (`extract_note`) with --{mode}: " +
                      ", ".join(f"{k} {v}" for k, v in sorted(m["notes"].items()))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
