"""Durable jobs and cross-instance fan-out, side by side with Celery and arq.

usage: python3 bench/scale/run.py [--quick] [--rounds N]

Starts its own Redis (no persistence) and PostgreSQL (tests/engines/postgres.sh, fsync
on), builds bench/scale (release), then, for each round, each system and each mode:

- burst: COUNT no-op jobs enqueued at once from 8 concurrent enqueuers; throughput is
  COUNT over the time from the first enqueue to the last job done;
- paced: COUNT jobs at RATE a second, below every system's capacity; latency is each
  job's time from enqueue to done (p50, p99).

Systems: hasten on SQLite, PostgreSQL and Redis (workers in the process, 8 jobs at once,
its defaults: a 100 ms poll, and an enqueue wakes the worker at once: in the process,
and on Redis through pub/sub), Celery 5.7 on Redis (its
defaults: prefork pool, a process per core) and arq 0.28 on Redis (its defaults: 10 jobs
at once, 0.5 s poll). Every job appends `sent_us done_us` to a log the same way.
Workers are started (and ready) before the clock starts; each run gets an empty queue.

Then fan-out: two hasten instances in one process, each with its own broker connection;
100 WebSocket clients on instance B, a publisher on instance A sending 50 messages a
second; each client notes each message's latency. Brokers: in-process (one instance,
the floor), Redis pub/sub, PostgreSQL LISTEN/NOTIFY.

Writes bench/results/scale-latest.json and .md (medians over rounds, with ratios), and
the charts bench/results/jobs-throughput.png, jobs-p99.png and fanout-p99.png.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALE = Path(__file__).resolve().parent
BENCH = SCALE.parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENVS = {"celery": (BENCH / ".venv-celery", ["celery[redis]==5.7.0"]),
         "arq": (BENCH / ".venv-arq", ["arq==0.28.0"]),
         "charts": (BENCH / ".venv", ["matplotlib==3.11.2"])}
BIN = SCALE / "target" / "release"

# name: (kind, backend, poll ms)
SYSTEMS = {
    "hasten-sqlite": ("hasten", "sqlite", 100),
    "hasten-postgres": ("hasten", "postgres", 100),
    "hasten-redis": ("hasten", "redis", 100),
    "celery-redis": ("celery", "redis", None),
    "arq-redis": ("arq", "redis", None),
}
BROKERS = ["memory", "redis", "postgres"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_tools():
    for tool, package in (("redis-server", "redis-server"), ("psql", "postgresql-client")):
        if not shutil.which(tool):
            sh(["apt-get", "install", "-y", "-qq", package], stdout=subprocess.DEVNULL)
    for module, (venv, packages) in VENVS.items():
        python = venv / "bin" / "python"
        if not python.exists():
            sh([sys.executable, "-m", "venv", str(venv)])
        probe = {"celery": "celery", "arq": "arq", "charts": "matplotlib"}[module]
        if subprocess.run([str(python), "-c", f"import {probe}"], capture_output=True).returncode:
            sh([str(venv / "bin" / "pip"), "install", "-q"] + packages)


class Engines:
    """A Redis and a PostgreSQL of the run's own."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="hasten-scale-"))
        self.redis_port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL)
        self.pg_dir = tempfile.mktemp(prefix="/tmp/hasten-scale-pg.")
        env = dict(os.environ, HASTEN_PG_FSYNC="on")
        self.pg_admin = sh([str(ROOT / "tests/engines/postgres.sh"), "start", self.pg_dir,
                            str(free_port())], capture_output=True, text=True,
                           env=env).stdout.strip()
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.05)

    @property
    def redis_url(self):
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def fresh_redis(self):
        sh(["redis-cli", "-p", str(self.redis_port), "flushall"], stdout=subprocess.DEVNULL)

    def fresh_postgres(self):
        for statement in ("DROP DATABASE IF EXISTS bench_jobs WITH (FORCE)",
                          "CREATE DATABASE bench_jobs"):
            sh(["psql", "-q", self.pg_admin, "-c", statement], stdout=subprocess.DEVNULL)
        return self.pg_admin.rsplit("/", 1)[0] + "/bench_jobs"

    def close(self):
        self.redis.terminate()
        self.redis.wait()
        subprocess.run([str(ROOT / "tests/engines/postgres.sh"), "stop", self.pg_dir])
        shutil.rmtree(self.tmp, ignore_errors=True)


def latencies(log):
    pairs = [tuple(map(int, line.split())) for line in Path(log).read_text().splitlines()]
    return sorted(done - sent for sent, done in pairs)


def pct(values, p):
    return values[max(1, min(len(values), int(-(-len(values) * p // 1)))) - 1]


def run_job(engines, name, mode, count, rate):
    kind, backend, poll = SYSTEMS[name]
    log = engines.tmp / f"{name}-{mode}.log"
    log.unlink(missing_ok=True)
    engines.fresh_redis()
    env = dict(os.environ, JOB_LOG=str(log), BROKER=engines.redis_url)
    if kind == "hasten":
        url = {"sqlite": lambda: str(engines.tmp / f"jobs-{time.monotonic_ns()}.sqlite"),
               "postgres": engines.fresh_postgres,
               "redis": lambda: engines.redis_url}[backend]()
        out = sh([str(BIN / "jobs"), backend, url, mode, str(count), str(rate), str(poll),
                  str(log)], capture_output=True, text=True, env=env).stdout
    else:
        venv = VENVS[kind][0]
        if kind == "celery":
            worker = [str(venv / "bin" / "celery"), "-A", "celery_app", "worker",
                      "--loglevel", "warning", "--without-gossip", "--without-mingle",
                      "--without-heartbeat"]
        else:
            worker = [str(venv / "bin" / "arq"), "arq_app.WorkerSettings"]
        proc = subprocess.Popen(worker, cwd=SCALE, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(4)  # the worker connects and starts its pool
        try:
            out = sh([str(venv / "bin" / "python"), str(SCALE / "enqueue.py"), kind, mode,
                      str(count), str(rate)], capture_output=True, text=True, env=env,
                     cwd=SCALE).stdout
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    timing = json.loads(out.strip().splitlines()[-1])
    lat = latencies(log)
    assert len(lat) == count, f"{name} {mode}: {len(lat)} of {count} jobs logged"
    return {"system": name, "mode": mode, "count": count,
            "throughput": count / timing["total_s"], "enqueue_s": timing["enqueue_s"],
            "p50_ms": pct(lat, 0.50) / 1000, "p99_ms": pct(lat, 0.99) / 1000,
            "max_ms": lat[-1] / 1000}


def run_fanout(engines, broker, clients, messages, rate):
    url = {"memory": "", "redis": engines.redis_url, "postgres": engines.pg_admin}[broker]
    engines.fresh_redis()
    out = sh([str(BIN / "fanout"), broker, url, str(clients), str(messages), str(rate)],
             capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return {"broker": broker, "clients": clients, "messages": messages,
            "delivered": r["delivered"], "expected": r["expected"],
            "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000}


def medians(records, keys, fields):
    groups = {}
    for r in records:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for group in groups.values():
        m = dict(group[0])
        for f in fields:
            m[f] = statistics.median(r[f] for r in group)
        m["rounds"] = len(group)
        out.append(m)
    return out


def report(data):
    jobs = {(r["system"], r["mode"]): r for r in data["jobs"]}
    lines = [f"# Jobs and fan-out ({data['when']}, {data['machine']})", "",
             f"{data['rounds']} round(s); medians. Burst: {data['burst']} jobs at once; "
             f"paced: {data['paced'][0]} jobs at {data['paced'][1]}/s.", "",
             "| system | burst jobs/s | × Celery | × arq | paced p50 ms | paced p99 ms |",
             "|---|---|---|---|---|---|"]
    celery = jobs.get(("celery-redis", "burst"), {}).get("throughput")
    arq = jobs.get(("arq-redis", "burst"), {}).get("throughput")
    for name in SYSTEMS:
        b, p = jobs.get((name, "burst")), jobs.get((name, "paced"))
        if not b or not p:
            continue
        ratio = lambda peer: f"{b['throughput'] / peer:.2f}" if peer else "–"
        lines.append(f"| {name} | {b['throughput']:.0f} | {ratio(celery)} | {ratio(arq)} | "
                     f"{p['p50_ms']:.1f} | {p['p99_ms']:.1f} |")
    lines += ["", f"Fan-out: {data['fanout_setup'][0]} clients on instance B, a publisher on "
              f"instance A, {data['fanout_setup'][1]} messages at {data['fanout_setup'][2]}/s.",
              "", "| broker | delivered | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    for r in data["fanout"]:
        lines.append(f"| {r['broker']} | {r['delivered']}/{r['expected']} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['max_ms']:.2f} |")
    return "\n".join(lines) + "\n"




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small counts, one round")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--out", default="scale-latest")
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    burst = 1000 if args.quick else 5000
    # Paced below every system's capacity (arq's is the lowest, near 200 jobs/s here).
    paced = (300, 100) if args.quick else (1000, 100)
    fanout = (100, 100 if args.quick else 300, 50)
    systems = args.systems.split(",")
    ensure_tools()
    sh(["cargo", "build", "--release", "--quiet"], cwd=SCALE)
    engines = Engines()
    jobs, fans = [], []
    try:
        for rnd in range(rounds):
            for name in systems:
                for mode in ("burst", "paced"):
                    count, rate = (burst, 0) if mode == "burst" else paced
                    r = run_job(engines, name, mode, count, rate or 1)
                    print(f"round {rnd + 1} {name:20} {mode:5} {r['throughput']:8.0f} jobs/s "
                          f"p50 {r['p50_ms']:8.1f} ms p99 {r['p99_ms']:8.1f} ms", flush=True)
                    jobs.append(r)
            for broker in BROKERS:
                r = run_fanout(engines, broker, *fanout)
                print(f"round {rnd + 1} fan-out {broker:9} {r['delivered']}/{r['expected']} "
                      f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms", flush=True)
                fans.append(r)
    finally:
        engines.close()
    data = {"when": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}",
            "rounds": rounds, "burst": burst, "paced": paced, "fanout_setup": fanout,
            "jobs": medians(jobs, ("system", "mode"), ("throughput", "enqueue_s", "p50_ms", "p99_ms", "max_ms")),
            "fanout": medians(fans, ("broker",), ("p50_ms", "p99_ms", "max_ms", "delivered"))}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(data, indent=1))
    (RESULTS / f"{args.out}.md").write_text(report(data))
    print(report(data))
    if args.out == "scale-latest":
        sh([str(VENVS["charts"][0] / "bin" / "python"), str(SCALE / "charts.py"),
            str(RESULTS / f"{args.out}.json"), str(RESULTS)])


if __name__ == "__main__":
    main()
