"""The charts of bench/scale/run.py: jobs-throughput.png, jobs-p99.png and fanout-p99.png.

usage: bench/.venv/bin/python bench/scale/charts.py RESULTS.json OUT_DIR
"""

import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
data = json.load(open(sys.argv[1])); out = sys.argv[2]
colour = lambda n: "#d62728" if n.startswith("hasten") else ("#2ca02c" if n.startswith("celery") else "#1f77b4")
for mode, field, label, fname in (("burst", "throughput", "jobs done per second (higher is better)", "jobs-throughput.png"),
                                  ("paced", "p99_ms", "p99 enqueue-to-done latency, ms (lower is better)", "jobs-p99.png")):
    rows = [r for r in data["jobs"] if r["mode"] == mode]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.barh([r["system"] for r in rows], [r[field] for r in rows], color=[colour(r["system"]) for r in rows])
    for i, r in enumerate(rows):
        ax.text(r[field], i, f" {r[field]:.0f}" if field == "throughput" else f" {r[field]:.1f}", va="center", fontsize=8)
    if field == "p99_ms":
        ax.set_xscale("log"); label = label.replace("ms", "ms, log scale")
    ax.invert_yaxis(); ax.set_xlabel(label); ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.set_title(f"Durable no-op jobs, {data['machine']}", fontsize=10)
    fig.tight_layout(); fig.savefig(f"{out}/{fname}", dpi=110); plt.close(fig)
rows = data["fanout"]
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh([r["broker"] for r in rows], [r["p99_ms"] for r in rows], color="#d62728")
for i, r in enumerate(rows):
    ax.text(r["p99_ms"], i, f" {r['p99_ms']:.2f}", va="center", fontsize=8)
ax.invert_yaxis(); ax.set_xlabel("p99 publish-to-client latency across instances, ms")
ax.set_title(f"WebSocket fan-out through each broker, {data['machine']}", fontsize=10)
ax.grid(True, axis="x", alpha=0.3); fig.tight_layout(); fig.savefig(f"{out}/fanout-p99.png", dpi=110)
