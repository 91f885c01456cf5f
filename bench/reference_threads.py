#!/usr/bin/env python3
"""The textbook approach scrape replaces: threading + requests.

    python3 bench/reference_threads.py LIST THREADS > out.jsonl

THREADS worker threads, a requests.Session per thread, a bounded queue fed
from the list, one JSON line per URL on stdout (status, ok, bytes, title,
elapsed_ms, error), written under a lock. The title is taken with a regular
expression, as such scripts do. It is the peer the benchmark harness compares
scrape with; it is not part of scrape.
"""

import json
import queue
import re
import sys
import threading
import time

import requests

TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def fetch(session, url):
    started = time.perf_counter()
    record = {"url": url, "status": None, "ok": False, "bytes": 0, "title": None, "error": None}
    try:
        response = session.get(url, timeout=10)
        body = response.content
        match = TITLE.search(body)
        record.update(
            status=response.status_code,
            ok=response.ok,
            bytes=len(body),
            title=match and " ".join(match.group(1).decode("utf-8", "replace").split()),
        )
    except requests.RequestException as e:
        record["error"] = str(e)
    record["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return record


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: reference_threads.py LIST THREADS")
    path, threads = sys.argv[1], int(sys.argv[2])
    jobs = queue.Queue(maxsize=threads * 2)
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        while True:
            url = jobs.get()
            if url is None:
                return
            line = json.dumps(fetch(session, url))
            with lock:
                sys.stdout.write(line + "\n")

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            url = line.strip()
            if url and not url.startswith("#"):
                jobs.put(url)
    for _ in pool:
        jobs.put(None)
    for t in pool:
        t.join()


if __name__ == "__main__":
    main()
