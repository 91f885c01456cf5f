"""The scale scenarios of issue 10, beside wget2, curl and the bare client.

  H   4 × T URLs at 500 ms latency, T = 16, 256, 1024, 4096: wall,
      efficiency (ideal 2.0 s ÷ wall), CPU, peak RSS and records ok for
      scrape, `wget2 --max-threads=T` and the bare blocking client
  H0  -t 4096 over 100 URLs of a 0 ms page: wall (target < 0.5 s)
  M   10 000 URLs on 10 000 distinct loopback hosts, -t 256, scrape under
      `ulimit -n 1024`: records ok, the most sockets open at once (sampled
      from /proc every 2 ms), and peak RSS against the same list on one host
  R   the realistic one: HTTPS with the server's own CA, 50 hosts on
      127.0.0.x (2 of them accept and never answer), pages of 20–300 KB
      with long heads, scripts and styles, log-normal latency (median 100 ms,
      p99 ≈ 2 s), 20 000 URLs, T = 64 and 512: scrape beside curl --parallel
      and wget2, each given the CA its own way, one run each

Every client runs on its own under GNU time (wall, CPU, peak RSS); the
servers run with --workers 2 on the same two cores.
"""

import csv
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time

from common import Server, curl_config, log, write_list

IDEAL_H = 2.0  # 4 rounds of 500 ms


# ---------------------------------------------------------------- running


def run_sampled(cmd, stdout_path=None, sample_sockets=False):
    """Runs cmd under GNU time (a process forked from Python would report
    Python's own peak RSS as its floor); returns wall, CPU (user+sys) and
    peak RSS, and with sample_sockets the most sockets cmd had open at once
    (polled from /proc every 2 ms)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        t0 = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name] + cmd,
                                stdout=out, stderr=subprocess.DEVNULL)
        done = threading.Event()
        most = [0]
        sampler = None
        if sample_sockets:
            sampler = threading.Thread(target=_count_sockets, args=(proc.pid, done, most))
            sampler.start()
        rc = proc.wait()
        wall = time.perf_counter() - t0
        done.set()
        if sampler:
            sampler.join()
        fields = t.read().split()[-4:]
    if stdout_path:
        out.close()
    _, user, sys_, rss = (float(x) for x in fields)
    return {"wall": wall, "cpu": user + sys_, "rss_mib": rss / 1024, "rc": rc, "sockets": most[0]}


def _count_sockets(time_pid, done, most):
    """Polls the sockets of GNU time's child."""
    child = None
    while child is None and not done.is_set():
        try:
            with open(f"/proc/{time_pid}/task/{time_pid}/children") as f:
                pids = f.read().split()
            child = pids[0] if pids else None
        except OSError:
            return
    fd_dir = f"/proc/{child}/fd"
    while not done.is_set():
        n = 0
        try:
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(f"{fd_dir}/{fd}").startswith("socket:"):
                        n += 1
                except OSError:
                    pass
        except OSError:
            return
        most[0] = max(most[0], n)
        time.sleep(0.002)


def ok_scrape(path):
    with open(path) as f:
        return sum(1 for line in f if json.loads(line).get("ok"))


def ok_wget2(stats_path):
    try:
        with open(stats_path, newline="") as f:
            return sum(1 for row in csv.DictReader(f) if row.get("Status") == "200")
    except OSError:
        return 0


def ok_curl(path):
    with open(path) as f:
        return sum(1 for line in f if line.strip() == "200")


def ok_bare(path, n):
    with open(path) as f:
        text = f.read()
    failed = text.rsplit("(", 1)[-1].split(" failed")[0]
    return n - int(failed) if failed.isdigit() else 0


def median_of(samples):
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


# ---------------------------------------------------------------- H


def scenario_h(ctx):
    """H: many workers at 500 ms latency, beside wget2 and the bare client."""
    args, tmp = ctx.args, ctx.tmp
    server = Server(args.server, workers=2)
    ts = [16, 256] if args.quick else [16, 256, 1024, 4096]
    lines = ["| T | client | wall s | efficiency | CPU s | peak RSS MiB | records ok |", "|---|---|---|---|---|---|---|"]
    results = {}
    try:
        for t in ts:
            n = 4 * t
            path = write_list(os.path.join(tmp, f"h{t}.txt"), server.base, n, "?delay_ms=500")
            log(f"H: {n} URLs at 500 ms, T = {t}: scrape, wget2, bare client; {ctx.runs} turn(s)")
            clients = h_clients(ctx, path, t, n)
            samples = {name: [] for name, _, _ in clients}
            for _ in range(ctx.runs):
                for name, cmd, count in clients:
                    out = os.path.join(tmp, "h.out")
                    m = run_sampled(cmd(out), stdout_path=out)
                    m["ok"] = count(out)
                    samples[name].append(m)
            for name, _, _ in clients:
                m = median_of(samples[name])
                results[(t, name)] = m
                lines.append(f"| {t} | {name} | {m['wall']:.2f} | {IDEAL_H / m['wall']:.2f} | {m['cpu']:.2f} | "
                             f"{m['rss_mib']:.1f} | {m['ok']:.0f} of {n} |")
    finally:
        server.stop()
    h_verdicts(ctx, ts, results)
    ctx.sections.append(("H: 4 × T URLs at 500 ms (ideal wall 2.0 s), medians of "
                         f"{ctx.runs} turn(s)", "\n".join(lines)))


def h_clients(ctx, path, t, n):
    """(name, command for an output path, how to count its ok records)."""
    clients = [("scrape", lambda out: [ctx.args.scrape, "-q", "-t", str(t), "-o", out, path],
                ok_scrape)]
    if ctx.tools["wget2"]:
        stats = os.path.join(ctx.tmp, "wget2.csv")
        clients.append(("wget2", lambda out: ["wget2", "--no-config", "-q", f"--max-threads={t}", "--tries=1",
                                              "-i", path, "-O", "/dev/null", f"--stats-site=csv:{stats}"],
                        lambda out: ok_wget2(stats)))
    clients.append(("bare reqwest::blocking", lambda out: [ctx.args.ceiling, path, str(t)],
                    lambda out: ok_bare(out, n)))
    return clients


def h_verdicts(ctx, ts, r):
    rows = ctx.rows
    all_ok = all(r[(t, "scrape")]["ok"] == 4 * t for t in ts)
    rows.append(("H", "every scrape record ok at every T", "yes", "yes" if all_ok else "no", verdict(all_ok)))
    for t in (1024, 4096):
        if (t, "scrape") not in r or (t, "wget2") not in r:
            continue
        s, w = r[(t, "scrape")], r[(t, "wget2")]
        ratio = s["wall"] / w["wall"]
        rows.append(("H", f"T = {t}: wall ÷ wget2's ({s['wall']:.2f} s vs {w['wall']:.2f} s)", "≤ 1.05",
                     f"{ratio:.2f}", verdict(ratio <= 1.05)))
        cpu = s["cpu"] / w["cpu"]
        rows.append(("H", f"T = {t}: CPU ÷ wget2's ({s['cpu']:.2f} s vs {w['cpu']:.2f} s)", "≤ 2",
                     f"{cpu:.2f}", verdict(cpu <= 2)))
    if (4096, "scrape") in r:
        rss = r[(4096, "scrape")]["rss_mib"]
        rows.append(("H", "T = 4096: peak RSS", "< 256 MB", f"{rss:.1f} MiB", verdict(rss < 256)))


def verdict(ok):
    return "met" if ok else "**missed**"


# ---------------------------------------------------------------- H0


def scenario_h0(ctx):
    """H0: thousands of workers, nothing to wait for."""
    server = Server(ctx.args.server, workers=2)
    try:
        path = write_list(os.path.join(ctx.tmp, "h0.txt"), server.base, 100, "")
        runs = max(5, ctx.runs)
        log(f"H0: -t 4096 over 100 URLs of a 0 ms page, {runs} runs")
        walls = []
        for _ in range(runs):
            out = os.path.join(ctx.tmp, "h0.out")
            m = run_sampled([ctx.args.scrape, "-q", "-t", "4096", "-o", out, path])
            if ok_scrape(out) != 100:
                raise SystemExit("bench: H0 lost records")
            walls.append(m["wall"])
    finally:
        server.stop()
    wall = statistics.median(walls)
    ctx.rows.append(("H0", f"-t 4096, 100 URLs of a 0 ms page: wall (median of {runs})", "< 0.5 s",
                     f"{wall:.3f} s", verdict(wall < 0.5)))


# ---------------------------------------------------------------- M


def scenario_m(ctx):
    """M: one URL on each of many distinct hosts, under ulimit -n 1024."""
    hosts = 1000 if ctx.args.quick else 10_000
    server = Server(ctx.args.server, workers=2, extra=["--hosts", str(hosts)])
    try:
        many = os.path.join(ctx.tmp, "m-many.txt")
        one = os.path.join(ctx.tmp, "m-one.txt")
        with open(many, "w") as f:
            f.writelines(f"{server.host_base(i)}/page/{i}\n" for i in range(hosts))
        write_list(one, server.base, hosts, "")
        limited = ["sh", "-c", 'ulimit -n 1024 && exec "$0" "$@"', ctx.args.scrape, "-q", "-t", "256"]
        log(f"M: {hosts} URLs on {hosts} hosts and on one host, -t 256, ulimit -n 1024")
        results = {}
        for name, path in (("many", many), ("one", one)):
            out = os.path.join(ctx.tmp, "m.out")
            m = run_sampled(limited + ["-o", out, path], sample_sockets=True)
            m["ok"] = ok_scrape(out) if m["rc"] == 0 else 0
            results[name] = m
    finally:
        server.stop()
    m_report(ctx, hosts, results)


def m_report(ctx, hosts, r):
    many, one = r["many"], r["one"]
    ctx.sections.append((f"M: {hosts} URLs, -t 256 under ulimit -n 1024, one run each",
                         "| list | wall s | CPU s | peak RSS MiB | most sockets open | records ok |\n"
                         "|---|---|---|---|---|---|\n" + "\n".join(
                             f"| {label} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['rss_mib']:.1f} | {m['sockets']} | "
                             f"{m['ok']:.0f} |" for label, m in ((f"{hosts} hosts", many), ("one host", one)))))
    ctx.rows.append(("M", f"{hosts} hosts, -t 256, ulimit -n 1024: records ok", f"{hosts}",
                     f"{many['ok']:.0f}", verdict(many["ok"] == hosts)))
    # 256 workers, each with at most one connection being made beside its
    # own, plus the kept connections: 447, what 1024 files leave (limits.rs).
    bound = 2 * 256 + (1024 - 2 * 256 - 64 - 1)
    ctx.rows.append(("M", "… most sockets open at once (sampled every 2 ms)", f"≤ {bound}",
                     str(many["sockets"]), verdict(many["sockets"] <= bound)))
    ratio = many["rss_mib"] / one["rss_mib"]
    ctx.rows.append(("M", f"… peak RSS ÷ the same list on one host ({many['rss_mib']:.1f} vs "
                     f"{one['rss_mib']:.1f} MiB)", "≤ 1.5", f"{ratio:.2f}", verdict(ratio <= 1.5)))


# ---------------------------------------------------------------- R


def scenario_r(ctx):
    """R: HTTPS, 50 hosts, realistic pages and latencies."""
    n = 2000 if ctx.args.quick else 20_000
    certs = os.path.join(ctx.tmp, "certs")
    os.makedirs(certs, exist_ok=True)
    server = Server(ctx.args.server, workers=2, extra=["--hosts", "50", "--hang", "2", "--tls", certs])
    ca = os.path.join(certs, "ca.pem")
    path = os.path.join(ctx.tmp, "r.txt")
    with open(path, "w") as f:
        for k in range(n):
            # One URL in a thousand, at pseudo-random places, goes to one of
            # the two hosts that hang; the others to one of 48, at random.
            mix = (k * 2654435761) % 2**32
            host = 48 + mix % 2 if mix % 1000 == 7 else (mix >> 7) % 48
            f.write(f"{server.host_base(host)}/real/{k}\n")
    lines = ["| T | client | wall s | CPU s | CPU ms per URL | peak RSS MiB | records ok |",
             "|---|---|---|---|---|---|---|"]
    results = {}
    try:
        for t in ([64] if ctx.args.quick else [64, 512]):
            for name, cmd, count in r_clients(ctx, path, ca, t):
                log(f"R: {n} URLs over HTTPS, T = {t}: {name}")
                out = os.path.join(ctx.tmp, "r.out")
                m = run_sampled(cmd(out), stdout_path=out)
                m["ok"] = count(out)
                results[(t, name)] = m
                lines.append(f"| {t} | {name} | {m['wall']:.1f} | {m['cpu']:.1f} | {m['cpu'] / n * 1000:.2f} | "
                             f"{m['rss_mib']:.1f} | {m['ok']:.0f} of {n} |")
    finally:
        server.stop()
    r_verdicts(ctx, n, results)
    ctx.sections.append((f"R: {n} URLs over HTTPS, 50 hosts (2 hang), realistic pages and latency, "
                         "one run each", "\n".join(lines)))


def r_clients(ctx, path, ca, t):
    """Each client with the CA given its own way, a 10 s deadline, no retry."""
    clients = [("scrape", lambda out: [ctx.args.scrape, "-q", "-t", str(t), "--cacert", ca, "--retries", "0",
                                       "--timeout", "10", "--connect-timeout", "10", "-o", out, path], ok_scrape)]
    if ctx.tools["curl"]:
        cfg = curl_config(path)
        clients.append((f"curl --parallel ({min(t, 300)} at once)",
                        lambda out: ["curl", "--parallel", "--parallel-max", str(t), "-s", "--cacert", ca,
                                     "--max-time", "10", "-K", cfg, "-w", "%{response_code}\\n"], ok_curl))
    if ctx.tools["wget2"]:
        stats = os.path.join(ctx.tmp, "wget2-r.csv")
        wget2 = ["wget2", "--no-config", "-q", f"--max-threads={t}", f"--ca-certificate={ca}", "--timeout=10",
                 "--tries=1", "-i", path, "-O", "/dev/null", f"--stats-site=csv:{stats}"]
        # Over HTTP/2, wget2 sends up to 30 requests per connection at once
        # (--http2-request-window), so --max-threads=T is not T requests in
        # flight; with a window of 1 it is, as for the other clients.
        clients.append(("wget2 --http2-request-window=1", lambda out: wget2 + ["--http2-request-window=1"],
                        lambda out: ok_wget2(stats)))
        clients.append((WGET2_DEFAULT, lambda out: wget2, lambda out: ok_wget2(stats)))
    return clients


# Shown, but not a peer for the verdicts: it has up to 30 × T requests in
# flight.
WGET2_DEFAULT = "wget2, default (HTTP/2 window 30)"


def r_verdicts(ctx, n, r):
    for t in sorted({t for t, _ in r}):
        peers = [(name, m) for (tt, name), m in r.items() if tt == t and name not in ("scrape", WGET2_DEFAULT)]
        if not peers or (t, "scrape") not in r:
            continue
        s = r[(t, "scrape")]
        best_wall = min(peers, key=lambda p: p[1]["wall"])
        best_cpu = min(peers, key=lambda p: p[1]["cpu"])
        ctx.rows.append(("R", f"T = {t}: wall ÷ the better peer's ({best_wall[0]}: {best_wall[1]['wall']:.1f} s)",
                         "≤ 1", f"{s['wall'] / best_wall[1]['wall']:.2f}", verdict(s["wall"] <= best_wall[1]["wall"])))
        ctx.rows.append(("R", f"T = {t}: CPU per URL ÷ the better peer's ({best_cpu[0]}: "
                         f"{best_cpu[1]['cpu'] / n * 1000:.2f} ms)", "≤ 1",
                         f"{s['cpu'] / best_cpu[1]['cpu']:.2f}", verdict(s["cpu"] <= best_cpu[1]["cpu"])))
