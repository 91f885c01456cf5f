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


def score_readability(pages, texts):
    ps, rs, fs = [], [], []
    for name, _, truth in pages:
        want = Counter(w.lower() for w in WORD.findall(truth))
        got = Counter(w.lower() for w in WORD.findall(texts.get(name) or ""))
        common = sum((want & got).values())
        p = common / sum(got.values()) if got else 0.0
        r = common / sum(want.values()) if want else 0.0
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r) if p + r else 0.0)
    return statistics.mean(ps), statistics.mean(rs), statistics.mean(fs)


SCORERS = {"trafilatura": score_trafilatura, "aeb": score_aeb, "readability": score_readability}
TITLES = {
    "trafilatura": "trafilatura benchmark",
    "aeb": "article-extraction-benchmark",
    "readability": "Readability test pages",
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


def run_scrape(scrape, server, names, mode, threads, workdir, pin=()):
    """scrape over every page; (texts by page, measured)."""
    listing = os.path.join(workdir, "list.txt")
    with open(listing, "w") as f:
        for corpus, name in names:
            f.write(f"{server.base}/files/{corpus}/{name}\n")
    out = os.path.join(workdir, f"{mode}.jsonl")
    timing = os.path.join(workdir, "time")
    cmd = [*pin, "/usr/bin/time", "-f", "%e %U %S %M", "-o", timing, scrape, listing,
           f"--{mode}", "--threads", str(threads), "-q", "-o", out]
    wall0 = time.perf_counter()
    rc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - wall0
    if rc.returncode != 0:
        raise SystemExit(f"bench: scrape failed ({rc.returncode}): {rc.stderr}")
    with open(timing) as f:
        _, user, sys_, rss = (float(x) for x in f.read().split()[-4:])
    texts, empty, notes = {}, [], Counter()
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            # `input` is the line as written: the URL before percent-encoding.
            key = tuple(r["input"].split("/files/", 1)[1].split("/", 1))
            value = r.get(mode)
            texts[key] = value
            if not value:
                empty.append("/".join(key))
            if r.get("extract_note"):
                notes[r["extract_note"].split(":")[0]] += 1
    measured = {"wall": wall, "cpu": user + sys_, "rss_mib": rss / 1024, "pages": len(names)}
    return texts, measured, empty, notes


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scrape", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--trafilatura")
    ap.add_argument("--aeb")
    ap.add_argument("--readability")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rss-threads", default="2,1000")
    ap.add_argument("--out")
    args = ap.parse_args()

    corpora = {}
    if args.trafilatura:
        corpora["trafilatura"] = trafilatura_corpus(args.trafilatura)
    if args.aeb:
        corpora["aeb"] = aeb_corpus(args.aeb)
    if args.readability:
        corpora["readability"] = readability_corpus(args.readability)
    if not corpora:
        raise SystemExit("bench: give at least one of --trafilatura, --aeb, --readability")

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
    report = {"pages": len(names), "modes": {}, "rss": {}}
    try:
        for mode in ("text", "markdown"):
            texts, measured, empty, notes = run_scrape(
                args.scrape, server, names, mode, args.threads, workdir, pin_scrape)
            measured["pinned"] = bool(pin_scrape)
            transform = markup_to_text if mode == "markdown" else None
            report["modes"][mode] = {
                "scores": scores_of(corpora, texts, transform),
                "measured": measured,
                "empty": empty,
                "notes": dict(notes),
            }
            log(f"{mode}: {measured['pages'] / measured['wall']:.0f} pages/s, "
                f"{measured['cpu'] / measured['pages'] * 1000:.2f} ms CPU a page, "
                f"{len(empty)} empty; " + ", ".join(
                    f"{c} F1 {s[2]:.3f}" for c, s in report["modes"][mode]["scores"].items()))
        for t in (int(x) for x in args.rss_threads.split(",") if x):
            _, measured, _, _ = run_scrape(args.scrape, server, names, "text", t, workdir)
            report["rss"][t] = measured
            log(f"--text --threads {t}: peak RSS {measured['rss_mib']:.1f} MiB, {measured['wall']:.1f} s")
    finally:
        server.stop()

    theirs = run_trafilatura(corpora)
    if theirs:
        texts, cpu, version = theirs
        report["trafilatura"] = {"version": version, "scores": scores_of(corpora, texts),
                                 "cpu": cpu, "pages": len(names)}
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
        f"`scrape --text` / `--markdown --threads {args.threads}`, one run"
        + (" each, scrape alone on one core (`taskset -c 0`), the server on the others."
           if any(m["measured"].get("pinned") for m in report["modes"].values()) else "."),
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
    lines += ["", "| run | pages/s (wall) | CPU ms a page | peak RSS MiB | empty or failed |", "|---|---|---|---|---|"]
    for mode, m in report["modes"].items():
        x = m["measured"]
        lines.append(f"| scrape --{mode} --threads {args.threads} | {x['pages'] / x['wall']:.0f} | "
                     f"{x['cpu'] / x['pages'] * 1000:.2f} | {x['rss_mib']:.1f} | {len(m['empty'])} |")
    for t, x in report["rss"].items():
        lines.append(f"| scrape --text --threads {t} | {x['pages'] / x['wall']:.0f} | "
                     f"{x['cpu'] / x['pages'] * 1000:.2f} | {x['rss_mib']:.1f} | |")
    if "trafilatura" in report:
        t = report["trafilatura"]
        lines.append(f"| trafilatura {t['version']} (Python, in process, one core) | "
                     f"{t['pages'] / t['cpu']:.0f} | {t['cpu'] / t['pages'] * 1000:.2f} | | |")
    for mode, m in report["modes"].items():
        if m["empty"]:
            lines += ["", f"Empty `{mode}`: " + ", ".join(m["empty"][:20])]
        if m["notes"]:
            lines += ["", f"Notes (`extract_note`) with --{mode}: " +
                      ", ".join(f"{k} {v}" for k, v in sorted(m["notes"].items()))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
