"""What every benchmark scenario shares: the tools found on this machine,
the fixture server, running a command under GNU time, URL lists, and the
peers (curl, xargs + curl, Python threading) that run beside scrape."""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- tools


def have_gnu_time():
    return os.path.exists("/usr/bin/time") and subprocess.run(
        ["/usr/bin/time", "-f", "%M", "true"], capture_output=True
    ).returncode == 0


def curl_parallel_ok():
    if not shutil.which("curl"):
        return False
    out = subprocess.run(["curl", "--help", "all"], capture_output=True, text=True).stdout
    return "--parallel-max" in out


def python_requests_ok():
    return subprocess.run([sys.executable, "-c", "import requests"], capture_output=True).returncode == 0


# ---------------------------------------------------------------- server


class Server:
    """The fixture server (examples/fixture_server), started for a scenario;
    `extra` are its options (--hosts, --hang, --tls)."""

    def __init__(self, binary, workers, extra=()):
        # `binary` may be a command with a prefix (["taskset", "-c", "1", path]).
        argv = list(binary) if isinstance(binary, list) else [binary]
        self.proc = subprocess.Popen(
            [*argv, "--workers", str(workers), *extra], stdout=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline()
        m = re.search(r"(https?)://(\S+):(\d+)", line)
        if not m:
            raise SystemExit(f"bench: fixture server did not start: {line!r}")
        self.scheme, self.port = m.group(1), int(m.group(3))
        self.base = f"{self.scheme}://{m.group(2)}:{self.port}"

    def host_base(self, i):
        """The base URL of host i (127.0.X.Y, as the server numbers them)."""
        return f"{self.scheme}://127.0.{i // 254}.{1 + i % 254}:{self.port}"

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------- measuring


def measure(cmd, server, runs, stdout=subprocess.DEVNULL):
    """Runs cmd `runs` times under GNU time; returns the medians."""
    samples = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
            cpu0, wall0 = server.cpu_seconds(), time.perf_counter()
            rc = subprocess.run(
                ["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name] + cmd,
                stdout=stdout,
                stderr=subprocess.DEVNULL,
            ).returncode
            wall = time.perf_counter() - wall0
            server_cpu = server.cpu_seconds() - cpu0
            fields = t.read().split()[-4:]
        if rc != 0:
            raise SystemExit(f"bench: command failed ({rc}): {' '.join(cmd)}")
        _, user, sys_, rss = (float(x) for x in fields)
        samples.append(
            {"wall": wall, "cpu": user + sys_, "rss_mib": rss / 1024, "server_share": server_cpu / wall}
        )
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def server_stats(server):
    """The fixture server's own counters (GET /stats, plain HTTP only)."""
    import urllib.request
    with urllib.request.urlopen(f"{server.base}/stats", timeout=5) as r:
        return json.load(r)


def measure_interleaved(cmds, server, runs):
    """Like measure, for several commands at once, taking turns (ABC ABC
    ABC), so that the machine's drift does not favour whichever ran first."""
    samples = {name: [] for name, _ in cmds}
    for _ in range(runs):
        for name, cmd in cmds:
            samples[name].append(measure(cmd, server, 1))
    return {name: {k: statistics.median(x[k] for x in xs) for k in xs[0]} for name, xs in samples.items()}


def wrk_ceiling(url, seconds, runs):
    rates = []
    for _ in range(runs):
        out = subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{seconds}s", url], capture_output=True, text=True
        ).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if m:
            rates.append(float(m.group(1)))
    return statistics.median(rates) if rates else None


def startup(scrape, empty, runs):
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile("r", suffix=".json") as j:
            subprocess.run(
                ["hyperfine", "-N", "--warmup", "20", "--runs", str(runs), "--export-json", j.name,
                 f"{scrape} -q {empty}"],
                capture_output=True,
            )
            data = json.load(j)
        return statistics.median(data["results"][0]["times"]), "hyperfine"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([scrape, "-q", empty])
        times.append(time.perf_counter() - t0)
    return statistics.median(times), "python loop (includes spawn overhead)"


# ---------------------------------------------------------------- lists


def write_list(path, base, n, query):
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"{base}/page/{i}{query}\n")
    return path


def curl_config(list_path):
    path = list_path + ".curl"
    with open(list_path) as src, open(path, "w") as dst:
        for url in src:
            dst.write(f'url = "{url.strip()}"\noutput = "/dev/null"\n')
    return path


# ---------------------------------------------------------------- peers


def head_of(list_path, n):
    """The first n lines of a list, as a list of their own."""
    path = f"{list_path}.head{n}"
    with open(list_path) as src, open(path, "w") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return path


def peers(args, tools, list_path, threads, xargs_limit=None):
    """(name, command, URLs it runs) for every peer found on this machine.

    xargs starts one curl process per URL, so on long lists it runs on the
    first `xargs_limit` URLs only; its figures are per URL all the same."""
    found, missing = [], []
    n = sum(1 for _ in open(list_path))
    if tools["curl"]:
        found.append(("curl --parallel", ["curl", "--parallel", "--parallel-max", str(threads), "-s",
                                          "-K", curl_config(list_path), "-w", "%{json}\\n"], n))
    else:
        missing.append("curl --parallel (curl missing or too old)")
    if shutil.which("xargs") and shutil.which("curl"):
        xn = min(n, xargs_limit or n)
        xlist = list_path if xn == n else head_of(list_path, xn)
        name = "xargs -P curl" + ("" if xn == n else f" (first {xn} URLs)")
        found.append((name, ["sh", "-c", f"xargs -P {threads} -n 1 curl -s -o /dev/null "
                                         f"-w '%{{json}}\\n' < {xlist}"], xn))
    else:
        missing.append("xargs -P curl")
    if tools["requests"]:
        found.append(("python threading+requests",
                      [sys.executable, os.path.join(args.bench_dir, "reference_threads.py"), list_path, str(threads)], n))
    else:
        missing.append("python threading+requests (no requests module)")
    return found, missing
