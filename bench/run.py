"""Run the benchmarks: every scenario against every framework, interleaved over rounds,
server pinned to core 0 and load generator to core 1.

usage: bench/run [--quick] [--only SCENARIO,...] [--frameworks NAME,...] [--no-sweeps]
                 [--rounds N] [--seconds S] [--out OUT]

Writes bench/results/latest.json (one record per scenario x framework, medians over
rounds) and bench/results/latest.md (the table with ratios to raw hyper and to each
peer) — or OUT.json and OUT.md with --out OUT, for a partial run that should not
replace the full one — then the sweeps (throughput and p99 against concurrency for the
I/O-bound and the blocking endpoint, and plaintext latency while the blocking pool is
saturated) and the charts drawn from them (bench/charts.py; only for latest).
The typed scenarios' warm-up checks every answer's status (200, or 422 for
typed-invalid) and stops the run if one differs. Server CPU time per request comes from
/proc/PID/stat (utime + stime, all processes of the server) over the measured run; peak
RSS is the sum of VmHWM; threads are counted at the end of the run.
"""

import argparse
import atexit
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
VENV = BENCH / ".venv"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, LOAD_CPU = "0", "1"

RUST = ["hyper", "hasten", "axum", "actix"]
FASTAPI = {"fastapi-1w": 1, "fastapi-2w": 2}
PY_PACKAGES = {"fastapi": "fastapi==0.165.0", "uvicorn": "uvicorn==0.54.0", "uvloop": "uvloop",
               "httptools": "httptools", "websockets": "websockets==17.4",
               "matplotlib": "matplotlib==3.11.2"}

# name: (path or lua script, wrk connections, description)
SCENARIOS = {
    "plaintext": ("/plaintext", 64, "GET returning 13 bytes of text"),
    "json": ("/json", 64, "GET returning a small JSON object"),
    "typed": ("typed.lua", 64, "POST: int path param, 2 constrained query params, 6-field JSON body with field constraints, header dependency, JSON answer"),
    "typed-invalid": ("typed.lua:invalid", 64, "the same endpoint with invalid input (422), alternating type errors and broken body constraints"),
    "io-1000": ("/io", 1000, "await 50 ms of simulated I/O, 1,000 connections"),
    "io-10000": ("/io", 10000, "await 50 ms of simulated I/O, 10,000 connections"),
    "sync": ("/sync", 200, "block 50 ms (blocking pool / threadpool), 200 connections"),
    "ws-echo": ("ws", 64, "WebSocket echo of a 32-byte text message, 64 connections (req/s = messages/s)"),
}
# Raw hyper has no WebSocket server; those rows have no hyper baseline.
NOT_IN = {"ws-echo": {"hyper"}}

# The sweeps behind the charts: (path, connection counts, frameworks).
SWEEPS = {
    "io": ("/io", [100, 1000, 5000, 10000], ["hyper", "hasten", "fastapi-1w", "fastapi-2w"]),
    "sync": ("/sync", [10, 40, 100, 200], ["hasten", "fastapi-1w", "fastapi-2w"]),
}
RESPONSIVE = ["hasten", "fastapi-1w", "fastapi-2w"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    missing = [t for t in ("wrk", "taskset") if subprocess.run(["which", t], capture_output=True).returncode]
    if missing:
        sh(["apt-get", "install", "-y", "-qq", "wrk"], stdout=subprocess.DEVNULL)
    if not (VENV / "bin" / "python").exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
    absent = [spec for module, spec in PY_PACKAGES.items()
              if subprocess.run([str(VENV / "bin" / "python"), "-c", f"import {module}"],
                                capture_output=True).returncode]
    if absent:
        sh([str(VENV / "bin" / "pip"), "install", "-q"] + absent)
    # 10,000 connections need as many descriptors in wrk, in the idle probe and in the server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 20_000 if hard == resource.RLIM_INFINITY else min(hard, 20_000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def build():
    sh(["cargo", "build", "--release", "--quiet"], cwd=BENCH)


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port(port):
    """The next port from `port` on that nothing listens on: a server someone else left
    there must not be measured in place of ours."""
    while port_open(port):
        port += 1
    return port


# hasten's server observed (not in the default set: `--frameworks
# hasten,hasten-observed`): `hasten-observed` with every request traced and its spans
# exported over OTLP, and metrics on; `hasten-traced` and `hasten-metrics` with one of
# the two. The spans go to this sink, a separate process on the load generator's core
# that reads and drops them, as a collector elsewhere would.
# `hasten-observed-10` traces one request in ten (`App::tracing_ratio(0.1)`).
OBSERVED = {"hasten-observed": {"BENCH_OBSERVE": "both"},
            "hasten-observed-10": {"BENCH_OBSERVE": "both", "BENCH_TRACE_RATIO": "0.1"},
            "hasten-traced": {"BENCH_OBSERVE": "tracing"},
            "hasten-metrics": {"BENCH_OBSERVE": "metrics"}}
SINK = """
import http.server
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(__import__("sys").argv[1])), Sink).serve_forever()
"""
_sink = {}


def otlp_sink():
    """The OTLP endpoint of the sink, started on first use."""
    if "url" not in _sink:
        port = free_port(18490)
        proc = subprocess.Popen(["taskset", "-c", LOAD_CPU, sys.executable, "-c", SINK, str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        atexit.register(proc.kill)
        deadline = time.time() + 10
        while not port_open(port) and time.time() < deadline:
            time.sleep(0.05)
        _sink["url"] = f"http://127.0.0.1:{port}/v1/traces"
    return _sink["url"]


def start(framework, port):
    if port_open(port):
        raise RuntimeError(f"port {port} is taken")
    env = dict(os.environ, BENCH_ADDR=f"127.0.0.1:{port}", RUST_LOG="error")
    if framework in OBSERVED:
        env.update(BENCH_OTLP=otlp_sink(), **OBSERVED[framework])
    if framework in FASTAPI:
        cmd = [str(VENV / "bin" / "uvicorn"), "fastapi_app:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(FASTAPI[framework]), "--loop", "uvloop",
               "--http", "httptools", "--log-level", "error", "--no-access-log",
               "--backlog", "16384"]
    else:
        binary = "hasten-observed" if framework in OBSERVED else framework
        cmd = [str(BENCH / "target" / "release" / binary)]
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + cmd, cwd=BENCH, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 30
    while not port_open(port):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{framework} did not start")
        time.sleep(0.05)
    time.sleep(0.3)
    return proc


def tree(pid):
    """The process and its descendants (uvicorn workers)."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for c in children:
        out += tree(int(c))
    return out


def cpu_ticks(pid):
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total


def status(pid, key):
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def fmt(value, spec):
    """A figure for the tables and the log; "–" where there is none (no answers)."""
    return "–" if value is None else format(value, spec)


def parse_duration_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        return None
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def ws_load(port, conns, seconds):
    args = ["taskset", "-c", LOAD_CPU, str(BENCH / "target" / "release" / "ws_load"),
            f"ws://127.0.0.1:{port}/ws", str(conns), str(seconds)]
    out = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    return {"rps": out["rate"], "requests": out["messages"], "p50_ms": out["p50_ms"],
            "p99_ms": out["p99_ms"], "errors": out["errors"]}


def wrk(scenario, port, seconds, conns=None, target=None, check=False):
    """One load run. `conns` and `target` override the scenario's (the sweeps use them).
    `check`: the typed scenarios tally every answer's status (slower: for the warm-up)
    and fail unless all are 200 (typed) or 422 (typed-invalid)."""
    s_target, s_conns, _ = SCENARIOS.get(scenario, (None, None, None))
    target, conns = target or s_target, conns or s_conns
    if target == "ws":
        return ws_load(port, conns, seconds)
    env = dict(os.environ)
    args = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency",
            "--timeout", "10s"]
    if target.startswith("typed.lua"):
        args += ["-s", str(BENCH / "typed.lua")]
        if target.endswith(":invalid"):
            env["BENCH_INVALID"] = "1"
        if check:
            env["BENCH_CHECK"] = "1"
        url = f"http://127.0.0.1:{port}"
    else:
        url = f"http://127.0.0.1:{port}{target}"
    out = subprocess.run(args + [url], capture_output=True, text=True, env=env).stdout
    if check and target.startswith("typed.lua"):
        statuses = re.search(r"^statuses (.*)$", out, re.M)
        seen = dict(kv.split(":") for kv in statuses.group(1).split()) if statuses else {}
        want = "422" if target.endswith(":invalid") else "200"
        if set(seen) != {want}:
            raise RuntimeError(f"{scenario}: every answer should be {want}, got {seen or out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(map(int, sock.groups())) if sock else 0
    bad = int(non2xx.group(1)) if non2xx else 0
    if not target.endswith(":invalid"):
        errors += bad
    elif bad < total:
        errors += total - bad  # the invalid scenario must answer 422 every time
    if total == 0:
        errors = max(errors, conns)  # not one answer within the run
    return {"rps": rps, "requests": total, "p50_ms": parse_duration_ms(lat.get("50", "")),
            "p99_ms": parse_duration_ms(lat.get("99", "")), "errors": errors}


def measure(framework, scenario, seconds, port, conns=None, target=None):
    proc = start(framework, port)
    try:
        wrk(scenario, port, 1, conns, target, check=True)  # warm up, checking the answers
        before = cpu_ticks(proc.pid)
        result = wrk(scenario, port, seconds, conns, target)
        after = cpu_ticks(proc.pid)
        result["threads"] = status(proc.pid, "Threads")
        result["peak_rss_kb"] = status(proc.pid, "VmHWM")
        cpu_s = (after - before) / CLK_TCK
        result["cpu_us_per_req"] = cpu_s * 1e6 / result["requests"] if result["requests"] else None
        return result
    finally:
        stop(proc)


def idle_memory(framework, port, connections):
    """RSS with `connections` idle keep-alive connections, each having made one request."""
    proc = start(framework, port)
    socks = []
    try:
        base = status(proc.pid, "VmRSS")
        req = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
        for _ in range(connections):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(req)
            socks.append(s)
        for s in socks:
            s.settimeout(10)
            s.recv(4096)
        time.sleep(1)
        rss = status(proc.pid, "VmRSS")
        return {"rss_kb": rss, "base_rss_kb": base, "connections": connections,
                "kb_per_connection": (rss - base) / connections,
                "threads": status(proc.pid, "Threads")}
    finally:
        for s in socks:
            s.close()
        stop(proc)


def responsive(framework, port, seconds):
    """Plaintext latency with 4 connections, alone and while 200 connections keep the
    blocking endpoint (and so the whole blocking pool) busy."""
    proc = start(framework, port)
    try:
        wrk("plaintext", port, 1, 4)  # warm up
        alone = wrk("plaintext", port, seconds, 4)
        load = subprocess.Popen(
            ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c200", f"-d{seconds + 3}s", "--timeout", "10s",
             f"http://127.0.0.1:{port}/sync"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1.5)
        busy = wrk("plaintext", port, seconds, 4)
        out = load.communicate(timeout=seconds + 30)[0]
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        busy["sync_rps"] = float(m.group(1)) if m else None
        return {"alone": alone, "while_sync_saturated": busy}
    finally:
        stop(proc)


def sweeps(seconds, port, quick):
    out = {}
    for name, (target, counts, fws) in SWEEPS.items():
        rows = []
        for conns in counts:
            for fw in fws:
                if quick and fw in FASTAPI and conns >= 10000:
                    continue  # needs more than a quick run's seconds to connect 10,000 clients
                port = free_port(port + 1)
                r = measure(fw, name, seconds, port, conns, target)
                r.update(framework=fw, connections=conns)
                print(f"sweep {name:5} {conns:>6} conns {fw:11} {r['rps']:>10,.0f} req/s  "
                      f"p99 {fmt(r['p99_ms'], '.2f')} ms  threads {r['threads']}  errors {r['errors']}", flush=True)
                rows.append(r)
        out[name] = rows
    out["responsive"] = {}
    for fw in RESPONSIVE:
        port = free_port(port + 1)
        r = out["responsive"][fw] = responsive(fw, port, seconds)
        print(f"responsive {fw:11} plaintext p99 alone {fmt(r['alone']['p99_ms'], '.2f')} ms, while /sync is "
              f"saturated {fmt(r['while_sync_saturated']['p99_ms'], '.2f')} ms", flush=True)
    return out, port


def median(records, key):
    vals = [r[key] for r in records if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def table(records, frameworks):
    lines = ["| scenario | framework | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | threads | errors | req/s ÷ hyper | CPU ÷ hyper |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    by = {(r["scenario"], r["framework"]): r for r in records}
    for scenario in SCENARIOS:
        base = by.get((scenario, "hyper"))
        for fw in frameworks:
            r = by.get((scenario, fw))
            if not r:
                continue
            rel = lambda k: f"{r[k] / base[k]:.2f}" if base and base.get(k) and r.get(k) is not None else "–"
            lines.append(
                f"| {scenario} | {fw} | {r['rps']:,.0f} | {fmt(r['p50_ms'], '.2f')} | {fmt(r['p99_ms'], '.2f')} | "
                f"{fmt(r['cpu_us_per_req'], '.1f')} | {r['peak_rss_kb'] / 1024:.1f} | {r['threads']} | "
                f"{r['errors']} | {rel('rps')} | {rel('cpu_us_per_req')} |")
    peers = [f for f in frameworks if f != "hasten"]
    lines += ["", "hasten against each peer (req/s ratio, CPU-per-request ratio; > 1 req/s and < 1 CPU favour hasten):", "",
              "| scenario | " + " | ".join(peers) + " |", "|---|" + "---|" * len(peers)]
    for scenario in SCENARIOS:
        h = by.get((scenario, "hasten"))
        if not h:
            continue
        cells = []
        for p in peers:
            r = by.get((scenario, p))
            cells.append(f"{h['rps'] / r['rps']:.2f} / {h['cpu_us_per_req'] / r['cpu_us_per_req']:.2f}"
                         if r and r["rps"] and r["cpu_us_per_req"] and h["cpu_us_per_req"] else "–")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_table(sweep):
    lines = []
    for name, title in (("io", "Awaiting 50 ms of I/O"), ("sync", "Blocking 50 ms (pool of 40 threads)")):
        if not sweep.get(name):
            continue
        lines += ["", f"{title}, against concurrency:", "",
                  "| connections | framework | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | threads | errors |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in sweep[name]:
            lines.append(f"| {r['connections']:,} | {r['framework']} | {r['rps']:,.0f} | {fmt(r['p50_ms'], '.2f')} | "
                         f"{fmt(r['p99_ms'], '.2f')} | {fmt(r['cpu_us_per_req'], '.1f')} | {r['peak_rss_kb'] / 1024:.1f} | "
                         f"{r['threads']} | {r['errors']} |")
    if sweep.get("responsive"):
        lines += ["", "Plaintext with 4 connections, alone and while 200 connections saturate /sync:", "",
                  "| framework | p50 ms alone | p99 ms alone | p50 ms busy | p99 ms busy | plaintext req/s busy | /sync req/s meanwhile |",
                  "|---|---|---|---|---|---|---|"]
        for fw, r in sweep["responsive"].items():
            a, b = r["alone"], r["while_sync_saturated"]
            lines.append(f"| {fw} | {fmt(a['p50_ms'], '.2f')} | {fmt(a['p99_ms'], '.2f')} | {fmt(b['p50_ms'], '.2f')} | {fmt(b['p99_ms'], '.2f')} | "
                         f"{b['rps']:,.0f} | {b['sync_rps'] or 0:,.0f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one 3 s round per cell")
    ap.add_argument("--only", default=",".join(list(SCENARIOS) + ["idle-10000"]))
    ap.add_argument("--frameworks", default=",".join(RUST + list(FASTAPI)))
    ap.add_argument("--no-sweeps", action="store_true", help="skip the sweeps and charts")
    ap.add_argument("--rounds", type=int, help="rounds per cell (default 3, 1 with --quick)")
    ap.add_argument("--seconds", type=int, help="seconds per cell (default 10, 3 with --quick)")
    ap.add_argument("--out", default="latest", help="results/OUT.json and results/OUT.md (default latest)")
    args = ap.parse_args()
    rounds, seconds = (1, 3) if args.quick else (3, 10)
    rounds, seconds = args.rounds or rounds, args.seconds or seconds
    frameworks = args.frameworks.split(",")
    scenarios = [s for s in args.only.split(",") if s in SCENARIOS]
    ensure_tools()
    build()
    raw = []
    port = 18500
    for rnd in range(rounds):
        for scenario in scenarios:
            for fw in frameworks:  # interleaved: A B A B over the rounds
                if fw in NOT_IN.get(scenario, ()):
                    continue
                if fw.startswith("fastapi") and scenario == "io-10000" and args.quick:
                    continue
                port = free_port(port + 1)
                r = measure(fw, scenario, seconds, port)
                r.update(scenario=scenario, framework=fw, round=rnd)
                print(f"round {rnd} {scenario:14} {fw:11} {r['rps']:>10,.0f} req/s  "
                      f"p99 {fmt(r['p99_ms'], '.2f')} ms  {fmt(r['cpu_us_per_req'], '.1f')} µs CPU/req  "
                      f"errors {r['errors']}", flush=True)
                raw.append(r)
    records = []
    for scenario in scenarios:
        for fw in frameworks:
            rs = [r for r in raw if r["scenario"] == scenario and r["framework"] == fw]
            if not rs:
                continue
            rec = {"scenario": scenario, "framework": fw, "rounds": len(rs)}
            for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "peak_rss_kb", "threads"):
                rec[k] = median(rs, k)
            rec["errors"] = sum(r["errors"] for r in rs)
            records.append(rec)
    idle = {}
    if "idle-10000" in args.only.split(","):
        for fw in frameworks:
            port = free_port(port + 1)
            idle[fw] = idle_memory(fw, port, 10000)
            print(f"idle {fw:11} {idle[fw]['kb_per_connection']:.1f} KiB per idle connection", flush=True)
    sweep = {}
    if not args.no_sweeps:
        sweep, port = sweeps(3 if args.quick else 6, port, args.quick)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True,
                            text=True).stdout.strip() or "?"
    machine = {"cpus": os.cpu_count(), "kernel": platform.release(), "commit": commit,
               "cpu": next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                            if l.startswith("model name")), "?")}
    RESULTS.mkdir(exist_ok=True)
    out = {"machine": machine, "quick": args.quick, "rounds": rounds, "seconds": seconds,
           "scenarios": {k: v[2] for k, v in SCENARIOS.items() if k in scenarios},
           "records": records, "idle_10000": idle, "sweeps": sweep, "raw": raw}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, indent=2))
    md = table(records, frameworks)
    if idle:
        md += "\n\nIdle keep-alive connections (10,000, one request each):\n\n| framework | RSS MiB | KiB per connection | threads |\n|---|---|---|---|\n"
        md += "\n".join(f"| {fw} | {v['rss_kb'] / 1024:.1f} | {v['kb_per_connection']:.1f} | {v['threads']} |"
                        for fw, v in idle.items())
    if sweep:
        md += "\n" + sweep_table(sweep)
    (RESULTS / f"{args.out}.md").write_text(md + "\n")
    print(md)
    if sweep and args.out == "latest":
        sh([str(VENV / "bin" / "python"), str(BENCH / "charts.py")])


if __name__ == "__main__":
    main()
