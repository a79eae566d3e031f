"""Run the benchmarks: every scenario against every framework, interleaved over rounds,
server pinned to core 0 and load generator to core 1.

usage: bench/run [--quick] [--only SCENARIO,...] [--frameworks NAME,...]

Writes bench/results/latest.json (one record per scenario x framework, medians over
rounds) and bench/results/latest.md (the table with ratios to raw hyper and to each
peer). Server CPU time per request comes from /proc/PID/stat (utime + stime, all
processes of the server) over the measured run; peak RSS is the sum of VmHWM; threads
are counted at the end of the run.
"""

import argparse
import json
import os
import platform
import re
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

# name: (path or lua script, wrk connections, description)
SCENARIOS = {
    "plaintext": ("/plaintext", 64, "GET returning 13 bytes of text"),
    "json": ("/json", 64, "GET returning a small JSON object"),
    "typed": ("typed.lua", 64, "POST: int path param, 2 constrained query params, 6-field JSON body, header dependency, JSON answer"),
    "typed-invalid": ("typed.lua:invalid", 64, "the same endpoint with invalid input (422)"),
    "io-1000": ("/io", 1000, "await 50 ms of simulated I/O, 1,000 connections"),
    "io-10000": ("/io", 10000, "await 50 ms of simulated I/O, 10,000 connections"),
    "sync": ("/sync", 200, "block 50 ms (blocking pool / threadpool), 200 connections"),
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    missing = [t for t in ("wrk", "taskset") if subprocess.run(["which", t], capture_output=True).returncode]
    if missing:
        sh(["apt-get", "install", "-y", "-qq", "wrk"], stdout=subprocess.DEVNULL)
    if not (VENV / "bin" / "uvicorn").exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
        sh([str(VENV / "bin" / "pip"), "install", "-q", "fastapi==0.165.0", "uvicorn==0.54.0",
            "uvloop", "httptools"])


def build():
    sh(["cargo", "build", "--release", "--quiet"], cwd=BENCH)


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start(framework, port):
    env = dict(os.environ, BENCH_ADDR=f"127.0.0.1:{port}", RUST_LOG="error")
    if framework in FASTAPI:
        cmd = [str(VENV / "bin" / "uvicorn"), "fastapi_app:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(FASTAPI[framework]), "--loop", "uvloop",
               "--http", "httptools", "--log-level", "error", "--no-access-log",
               "--backlog", "16384"]
    else:
        cmd = [str(BENCH / "target" / "release" / framework)]
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


def parse_duration_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        return None
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(scenario, port, seconds):
    target, conns, _ = SCENARIOS[scenario]
    env = dict(os.environ)
    args = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency",
            "--timeout", "10s"]
    if target.startswith("typed.lua"):
        args += ["-s", str(BENCH / "typed.lua")]
        if target.endswith(":invalid"):
            env["BENCH_INVALID"] = "1"
        url = f"http://127.0.0.1:{port}"
    else:
        url = f"http://127.0.0.1:{port}{target}"
    out = subprocess.run(args + [url], capture_output=True, text=True, env=env).stdout
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
    return {"rps": rps, "requests": total, "p50_ms": parse_duration_ms(lat.get("50", "")),
            "p99_ms": parse_duration_ms(lat.get("99", "")), "errors": errors}


def measure(framework, scenario, seconds, port):
    proc = start(framework, port)
    try:
        wrk(scenario, port, 1)  # warm up
        before = cpu_ticks(proc.pid)
        result = wrk(scenario, port, seconds)
        after = cpu_ticks(proc.pid)
        result["threads"] = status(proc.pid, "Threads")
        result["peak_rss_kb"] = status(proc.pid, "VmHWM")
        cpu_s = (after - before) / CLK_TCK
        result["cpu_us_per_req"] = cpu_s * 1e6 / max(result["requests"], 1)
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
            rel = lambda k: f"{r[k] / base[k]:.2f}" if base and base.get(k) else "–"
            lines.append(
                f"| {scenario} | {fw} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['cpu_us_per_req']:.1f} | {r['peak_rss_kb'] / 1024:.1f} | {r['threads']} | "
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
                         if r and r["rps"] and r["cpu_us_per_req"] else "–")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one 3 s round per cell")
    ap.add_argument("--only", default=",".join(list(SCENARIOS) + ["idle-10000"]))
    ap.add_argument("--frameworks", default=",".join(RUST + list(FASTAPI)))
    args = ap.parse_args()
    rounds, seconds = (1, 3) if args.quick else (3, 10)
    frameworks = args.frameworks.split(",")
    scenarios = [s for s in args.only.split(",") if s in SCENARIOS]
    ensure_tools()
    build()
    raw = []
    port = 18500
    for rnd in range(rounds):
        for scenario in scenarios:
            for fw in frameworks:  # interleaved: A B A B over the rounds
                if fw.startswith("fastapi") and scenario == "io-10000" and args.quick:
                    continue
                port += 1
                r = measure(fw, scenario, seconds, port)
                r.update(scenario=scenario, framework=fw, round=rnd)
                print(f"round {rnd} {scenario:14} {fw:11} {r['rps']:>10,.0f} req/s  "
                      f"p99 {r['p99_ms']:.2f} ms  {r['cpu_us_per_req']:.1f} µs CPU/req  "
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
            port += 1
            idle[fw] = idle_memory(fw, port, 10000)
            print(f"idle {fw:11} {idle[fw]['kb_per_connection']:.1f} KiB per idle connection", flush=True)
    machine = {"cpus": os.cpu_count(), "kernel": platform.release(),
               "cpu": next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                            if l.startswith("model name")), "?")}
    RESULTS.mkdir(exist_ok=True)
    out = {"machine": machine, "quick": args.quick, "rounds": rounds, "seconds": seconds,
           "scenarios": {k: v[2] for k, v in SCENARIOS.items() if k in scenarios},
           "records": records, "idle_10000": idle, "raw": raw}
    (RESULTS / "latest.json").write_text(json.dumps(out, indent=2))
    md = table(records, frameworks)
    if idle:
        md += "\n\nIdle keep-alive connections (10,000, one request each):\n\n| framework | RSS MiB | KiB per connection | threads |\n|---|---|---|---|\n"
        md += "\n".join(f"| {fw} | {v['rss_kb'] / 1024:.1f} | {v['kb_per_connection']:.1f} | {v['threads']} |"
                        for fw, v in idle.items())
    (RESULTS / "latest.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
