"""What keeping and re-running cost (issue 14): `--warc` against the same
run without it, a `--since` re-run against the first run, and the memory
of `--since` over a million earlier records. Run by bench/archive.sh.

W   --warc: same list, same threads, with and without an archive, taking
    turns; CPU, wall, peak RSS, and the archive's size against the bytes
    read. Pages of realistic size (20-300 KB), gzip-compressed by the
    server (most are) and not.
S   --since: 10 000 pages with validators; first run; the server restarts
    with 10 % of the pages changed; the re-run with --since. Requests that
    downloaded a body (200) or not (304), bytes read, wall.
P   --since over 1 000 000 earlier records (a synthetic file shaped like
    scrape's records), a list of 1 000 URLs: peak RSS and wall against
    the same run without --since.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import Server, log, measure  # noqa: E402


def write(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(line + "\n")


def summary_of(cmd):
    """Runs cmd (which writes --summary-json to a temp file); the summary
    and the wall time."""
    with tempfile.NamedTemporaryFile(suffix=".json") as s:
        t0 = time.perf_counter()
        rc = subprocess.run(cmd + ["--summary-json", s.name], stdout=subprocess.DEVNULL).returncode
        wall = time.perf_counter() - t0
        if rc != 0:
            raise SystemExit(f"bench: failed ({rc}): {' '.join(cmd)}")
        return json.load(open(s.name)), wall


def pages_list(a, server):
    """The W list: the saved pages of --pages-dir (served under /files/),
    or generated pages of realistic size."""
    if not a.pages_dir:
        return [f"{server.base}/versioned/{n}" for n in range(a.pages)], "generated"
    files = []
    for root, _, names in os.walk(a.pages_dir, followlinks=True):
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(root, name), a.pages_dir)
            files.append(f"{server.base}/files/{rel}")
    return sorted(files), "saved"


def scenario_w(a, tmp, report):
    report.append("## W: the cost of --warc\n")
    report.append(
        "Same list, `-t 16`, with and without `--warc`, taking turns "
        f"({a.runs} runs each, medians). CPU is scrape's user + system time. "
        + ("Pages: the saved pages of `--pages-dir` (real sites' HTML)."
           if a.pages_dir else
           "Pages: generated, of realistic size; they compress far better than real "
           "pages, so the archive's size here says little (give `--pages-dir`).")
        + "\n"
    )
    report.append("| pages | run | CPU s | wall s | peak RSS MiB | body MiB read | archive MiB | archive / body |")
    report.append("|---|---|---|---|---|---|---|---|")
    for gzip in (1, 0):
        extra = ["--dir", a.pages_dir] if a.pages_dir else []
        server = Server(a.server, 1, ["--gzip", str(gzip), *extra])
        try:
            lst = os.path.join(tmp, f"w{gzip}.txt")
            urls, kind = pages_list(a, server)
            write(lst, urls)
            archive = os.path.join(tmp, "w.warc.gz")
            base = [a.scrape, lst, "-t", "16", "-q"]
            summary, _ = summary_of(base)
            body_mib = summary["bytes"] / 2**20
            runs = {"without": [], "with --warc": []}
            for _ in range(a.runs):
                runs["without"].append(measure(base, server, 1))
                runs["with --warc"].append(measure(base + ["--warc", archive], server, 1))
            size = os.path.getsize(archive) / 2**20
            label = "gzip" if gzip else "identity"
            med = {k: {f: statistics.median(x[f] for x in v) for f in v[0]} for k, v in runs.items()}
            for name, m in med.items():
                arch = f"{size:.1f}" if name != "without" else "-"
                ratio = f"{size / body_mib:.2f}" if name != "without" else "-"
                report.append(
                    f"| {len(urls)} {kind} × {label} | {name} | {m['cpu']:.2f} | {m['wall']:.2f} | "
                    f"{m['rss_mib']:.1f} | {body_mib:.1f} | {arch} | {ratio} |"
                )
            cost = med["with --warc"]["cpu"] / med["without"]["cpu"]
            report.append(f"| | **CPU with / without** | **{cost:.2f}×** | | | | | |")
            log(f"W {label}: CPU {med['without']['cpu']:.2f} -> {med['with --warc']['cpu']:.2f} s, archive {size:.1f} MiB")
        finally:
            server.stop()
    report.append("")


def scenario_s(a, tmp, report):
    report.append("## S: a --since re-run\n")
    n = a.since_urls
    server = Server(a.server, 1, ["--gzip", "1", "--generation", "0"])
    port = server.port
    try:
        lst = os.path.join(tmp, "s.txt")
        write(lst, (f"{server.base}/versioned/{i}" for i in range(n)))
        first_out = os.path.join(tmp, "first.jsonl")
        first, first_wall = summary_of([a.scrape, lst, "-t", "16", "-q", "-o", first_out])
    finally:
        server.stop()
    server = Server(a.server, 1, ["--gzip", "1", "--generation", "1", "--port", str(port)])
    try:
        second_out = os.path.join(tmp, "second.jsonl")
        second, second_wall = summary_of(
            [a.scrape, lst, "-t", "16", "-q", "-o", second_out, "--since", first_out]
        )
    finally:
        server.stop()
    statuses, unchanged, wrong = {}, 0, 0
    for line in open(second_out):
        r = json.loads(line)
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        unchanged += r["unchanged"] is True
        changed = int(r["url"].rsplit("/", 1)[1]) % 10 == 0
        wrong += r["unchanged"] is changed
    report.append(
        f"{n} pages of realistic size (gzip), `-t 16`; between the runs the server "
        "restarts with every tenth page changed.\n"
    )
    report.append("| run | bodies downloaded (200) | 304 | bytes read | wall s |")
    report.append("|---|---|---|---|---|")
    report.append(f"| first | {first['ok']} | 0 | {first['bytes'] / 2**20:.1f} MiB | {first_wall:.2f} |")
    report.append(
        f"| --since | {statuses.get(200, 0)} | {statuses.get(304, 0)} | "
        f"{second['bytes'] / 2**20:.1f} MiB | {second_wall:.2f} |"
    )
    report.append(
        f"\nRe-run: {unchanged} records `unchanged: true`, "
        f"{wrong} marked wrongly (a changed page unchanged or the reverse); "
        f"wall {second_wall / first_wall:.2f} of the first run's, "
        f"bytes read {second['bytes'] / max(first['bytes'], 1):.3f} of it.\n"
    )
    log(f"S: first {first_wall:.2f} s, since {second_wall:.2f} s, statuses {statuses}")


def scenario_p(a, tmp, report):
    report.append("## P: --since over a million earlier records\n")
    n = a.prev_records
    server = Server(a.server, 1, ["--generation", "0"])
    try:
        prev = os.path.join(tmp, "prev.jsonl")
        rng = random.Random(7)
        with open(prev, "w") as f:
            for i in range(n):
                url = f"{server.base}/versioned/{i}"
                rec = {
                    "url": url, "input": url, "file": "list.txt", "line": i + 1,
                    "final_url": url, "status": 200, "ok": True,
                    "content_type": "text/html; charset=utf-8", "bytes": 40000 + i % 997,
                    "truncated": False, "title": f"Page {i} of a site with a longish title",
                    "description": "A description of the page as sites write them.",
                    "lang": "en", "redirects": 0, "attempts": 1, "elapsed_ms": 12.5,
                    "ttfb_ms": 3.1, "http_version": "HTTP/1.1", "ip": "127.0.0.1",
                    "etag": f"\"{i}-0\"", "last_modified": "Mon, 02 Nov 2026 00:00:00 GMT",
                    "sha256": "%064x" % rng.getrandbits(256), "error": None,
                }
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        size = os.path.getsize(prev) / 2**20
        lst = os.path.join(tmp, "p.txt")
        # URLs PREV does not have: both runs download the same pages, and
        # the difference is the index alone.
        write(lst, (f"{server.base}/versioned/{i}?new" for i in range(1000)))
        base = [a.scrape, lst, "-t", "16", "-q", "-o", os.path.join(tmp, "p.jsonl")]
        with_since = f"--since ({n} records)"
        rows = {"without --since": [], with_since: []}
        for _ in range(a.runs):
            rows["without --since"].append(measure(base, server, 1))
            rows[with_since].append(measure(base + ["--since", prev], server, 1))
        report.append(
            f"PREV: {n} records, {size:.0f} MiB; list: 1 000 URLs it does not have, `-t 16` "
            f"({a.runs} runs each, medians).\n"
        )
        report.append("| run | peak RSS MiB | wall s | CPU s |")
        report.append("|---|---|---|---|")
        med = {}
        for name, xs in rows.items():
            m = {k: statistics.median(x[k] for x in xs) for k in xs[0]}
            med[name] = m
            report.append(f"| {name} | {m['rss_mib']:.1f} | {m['wall']:.2f} | {m['cpu']:.2f} |")
        extra = med[with_since]["rss_mib"] - med["without --since"]["rss_mib"]
        report.append(f"\nThe index of {n} records: {extra:.1f} MiB more at peak.\n")
        log(f"P: +{extra:.1f} MiB for {n} records")
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scrape", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pages", type=int, default=3000)
    p.add_argument("--pages-dir", help="saved HTML pages to archive in W (e.g. an extraction corpus)")
    p.add_argument("--since-urls", type=int, default=10000)
    p.add_argument("--prev-records", type=int, default=1000000)
    p.add_argument("--only", default="W,S,P")
    a = p.parse_args()
    report = [
        "# Keeping and re-running: --warc and --since (bench/archive.sh)\n",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, one run of "
        "this script; figures are ratios within it.\n",
    ]
    chosen = a.only.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "W" in chosen:
            scenario_w(a, tmp, report)
        if "S" in chosen:
            scenario_s(a, tmp, report)
        if "P" in chosen:
            scenario_p(a, tmp, report)
    with open(a.out, "w") as f:
        f.write("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
