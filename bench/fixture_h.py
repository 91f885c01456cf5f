#!/usr/bin/env python3
"""H on the shared fixture server: 4 x T URLs at 500 ms, scrape beside wget2.

    python3 bench/fixture_h.py [--t 1024,4096] [--runs 3] [--server PATH]
        [--scrape target/release/scrape] [--clients 1,2,4]

The issue-23 table's server is `../shared/bench/fixture_server.py` (a fast
non-blocking asyncio server; uvloop when installed), two worker processes,
on the same machine. Every figure is one run's /usr/bin/time (wall, user +
system CPU, peak RSS), the median of --runs turns, each client in turn
within a turn. --clients runs scrape with SCRAPE_CLIENTS set to each value
(how many HTTP clients its workers share; unset: scrape's own choice).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile


def start(server):
    p = subprocess.Popen([sys.executable, server, "0", "--workers", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"READY (http://\S+)", line)
    if not m:
        p.kill()
        sys.exit(f"fixture server did not start: {line!r}")
    return p, m.group(1)


def timed(cmd, env=None):
    with tempfile.NamedTemporaryFile("r") as t:
        subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        wall, user, sys_, rss = t.read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024


def ok_records(path):
    n = 0
    with open(path) as f:
        for line in f:
            n += '"ok":true' in line
    return n


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--t", default="1024,4096")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--server", default=os.path.join(here, "..", "..", "shared", "bench", "fixture_server.py"))
    p.add_argument("--scrape", default=os.path.join(here, "..", "target", "release", "scrape"))
    p.add_argument("--clients", default="")
    a = p.parse_args()
    if not os.path.exists(a.server):
        sys.exit(f"no fixture server at {a.server} (--server PATH)")
    server, base = start(a.server)
    tmp = tempfile.mkdtemp()
    variants = [("scrape", None)] + [(f"scrape, {c} clients", c) for c in a.clients.split(",") if c]
    print("| T | client | wall s | CPU s | peak RSS MiB | ok |")
    print("|---|---|---|---|---|---|")
    try:
        for t in [int(x) for x in a.t.split(",")]:
            n = 4 * t
            path = os.path.join(tmp, f"h{t}.txt")
            with open(path, "w") as f:
                f.writelines(f"{base}page/{i}?delay_ms=500\n" for i in range(n))
            samples = {}
            for _ in range(a.runs):
                for name, clients in variants:
                    env = dict(os.environ)
                    if clients:
                        env["SCRAPE_CLIENTS"] = clients
                    out = os.path.join(tmp, "out.jsonl")
                    m = timed([a.scrape, "-q", "-t", str(t), "-o", out, path], env)
                    samples.setdefault(name, []).append(m + (ok_records(out),))
                m = timed(["wget2", "--no-config", "-q", f"--max-threads={t}", "--tries=1",
                           "-i", path, "-O", "/dev/null"])
                samples.setdefault("wget2", []).append(m + (n,))
            for name, ms in samples.items():
                med = [statistics.median(x) for x in zip(*ms)]
                ok = "-" if name == "wget2" else f"{med[3]:.0f} of {n}"
                print(f"| {t} | {name} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.1f} | {ok} |", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
