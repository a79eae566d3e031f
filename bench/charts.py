"""Draw the charts of bench/results/latest.json into bench/results/*.png.

usage: bench/.venv/bin/python bench/charts.py   (bench/run calls it after the sweeps)

- io-throughput.png: requests/s against concurrent connections for an endpoint that
  awaits 50 ms of I/O, with the ceiling that the 50 ms wait allows (connections / 50 ms);
- io-p99.png: p99 latency for the same, against the 50 ms floor;
- sync-throughput.png: requests/s against connections for an endpoint that blocks
  50 ms, with the bound the pool allows (40 threads / 50 ms per worker process);
- responsive.png: plaintext p99 alone and while the blocking pool is saturated;
- summary.png: server CPU time per request for each scenario and framework.
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WAIT_S = 0.05
POOL = 40
COLOURS = {"hyper": "#7f7f7f", "hasten": "#d62728", "axum": "#1f77b4", "actix": "#2ca02c",
           "fastapi-1w": "#ff7f0e", "fastapi-2w": "#9467bd"}
LABELS = {"hyper": "raw hyper (ceiling)", "hasten": "hasten", "axum": "axum", "actix": "actix-web",
          "fastapi-1w": "FastAPI, 1 worker", "fastapi-2w": "FastAPI, 2 workers"}


def by_framework(rows):
    """Rows per framework by connection count, leaving out runs that got no answers."""
    out = {}
    for r in rows:
        if not r["requests"] or r["p99_ms"] is None:
            continue
        out.setdefault(r["framework"], []).append(r)
    for rs in out.values():
        rs.sort(key=lambda r: r["connections"])
    return out


def subtitle(data):
    m = data["machine"]
    return f"{m['cpus']} cores, {m['cpu']}; server on core 0, load generator on core 1"


def save(fig, name):
    fig.tight_layout()
    fig.savefig(RESULTS / name, dpi=110)
    plt.close(fig)
    print(f"wrote {RESULTS / name}")


def against_connections(data, rows, key, ylabel, title, name, bounds, log=True):
    """One line per framework of `key` against connections, over reference `bounds`
    (each drawn by a function of the axes)."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for bound in bounds:
        bound(ax)
    for fw, rs in rows.items():
        ax.plot([r["connections"] for r in rs], [r[key] for r in rs], "o-", color=COLOURS.get(fw),
                label=LABELS.get(fw, fw))
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("concurrent connections")
    ax.set_ylabel(ylabel)
    ax.set_title(title + "\n" + subtitle(data), fontsize=10)
    ax.grid(True, which="both" if log else "major", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, name)


def io_charts(data):
    rows = by_framework(data["sweeps"]["io"])
    counts = sorted({r["connections"] for r in data["sweeps"]["io"]})
    against_connections(
        data, rows, "rps", "requests/s", "Awaiting 50 ms of I/O: throughput", "io-throughput.png",
        [lambda ax: ax.plot(counts, [c / WAIT_S for c in counts], "k--", lw=1,
                            label="connections / 50 ms (what the wait allows)")])
    against_connections(
        data, rows, "p99_ms", "p99 latency, ms", "Awaiting 50 ms of I/O: p99 latency", "io-p99.png",
        [lambda ax: ax.axhline(WAIT_S * 1000, color="k", ls="--", lw=1, label="50 ms floor"),
         lambda ax: ax.axhline(WAIT_S * 1100, color="k", ls=":", lw=1, label="floor + 10%")])


def sync_chart(data):
    against_connections(
        data, by_framework(data["sweeps"]["sync"]), "rps", "requests/s",
        f"Blocking 50 ms in a sync handler (pool of {POOL} threads)", "sync-throughput.png",
        [lambda ax: ax.axhline(POOL / WAIT_S, color="k", ls="--", lw=1,
                               label=f"{POOL} threads / 50 ms = {POOL / WAIT_S:.0f} req/s"),
         lambda ax: ax.axhline(2 * POOL / WAIT_S, color="k", ls=":", lw=1,
                               label=f"2 processes x {POOL} threads / 50 ms")],
        log=False)


def responsive_chart(data):
    resp = data["sweeps"]["responsive"]
    fws = list(resp)
    fig, ax = plt.subplots(figsize=(8, 5))
    width = 0.38
    xs = range(len(fws))
    for i, (key, label, shade) in enumerate([("alone", "plaintext alone", 0.45),
                                             ("while_sync_saturated", "while 200 connections saturate /sync", 1.0)]):
        vals = [resp[fw][key]["p99_ms"] for fw in fws]
        bars = ax.bar([x + (i - 0.5) * width for x in xs], vals, width,
                      color=[COLOURS.get(fw) for fw in fws], alpha=shade, edgecolor="black",
                      hatch=None if i else "//")
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
        ax.bar([0], [0], 0, color="#bbbbbb", alpha=shade, edgecolor="black", hatch=None if i else "//",
               label=label)
    ax.set_xticks(list(xs), [LABELS.get(fw, fw) for fw in fws])
    ax.set_ylabel("plaintext p99 latency, ms (4 connections)")
    ax.set_title("Async endpoints stay responsive while the blocking pool is full\n" + subtitle(data), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    save(fig, "responsive.png")


def summary_chart(data):
    records = data["records"]
    scenarios = [s for s in data["scenarios"] if not s.startswith("io-") and s != "sync"]
    fws = [fw for fw in COLOURS if any(r["framework"] == fw for r in records)]
    by = {(r["scenario"], r["framework"]): r for r in records}
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / max(len(fws), 1)
    for i, fw in enumerate(fws):
        xs, vals = [], []
        for j, s in enumerate(scenarios):
            r = by.get((s, fw))
            if r and r.get("cpu_us_per_req"):
                xs.append(j + (i - (len(fws) - 1) / 2) * width)
                vals.append(r["cpu_us_per_req"])
        ax.bar(xs, vals, width, color=COLOURS[fw], label=LABELS[fw])
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_yscale("log")
    ax.set_ylabel("server CPU µs per request (log)")
    ax.set_title("Server CPU time per request or message (lower is better)\n" + subtitle(data), fontsize=10)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    save(fig, "summary.png")


def main():
    data = json.loads((RESULTS / "latest.json").read_text())
    if not data.get("sweeps"):
        sys.exit("latest.json has no sweeps: run bench/run without --no-sweeps")
    io_charts(data)
    sync_chart(data)
    responsive_chart(data)
    if data["records"]:
        summary_chart(data)


if __name__ == "__main__":
    main()
