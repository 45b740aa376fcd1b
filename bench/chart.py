"""Throughput, p99 latency and CPU per request against concurrency, from the bench's JSON results
(argv: results.json out.png)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "raw": "(1) raw daprd publish",
    "trigger": "(2) triggerTodoEvent",
    "create": "(3) createTodo",
    "me": "(4) me query",
    "seed": "(5) FastAPI seed",
    "floor": "(6) framework floor",
    "floor-express": "(6e) floor on Express",
    "floor-node": "(6n) floor on node:http",
}
# Whose CPU the third panel shows: the process that serves the scenario's requests.
SERVING = {"raw": "daprd", "seed": "seed", "floor": "floor", "floor-express": "floor", "floor-node": "floor"}
STYLES = {"sqlite": "-", "postgres": "--"}

with open(sys.argv[1]) as f:
    report = json.load(f)

fig, (ax_rps, ax_p99, ax_cpu) = plt.subplots(1, 3, figsize=(19, 5))
colors = {}
for run in report["runs"]:
    db = run["database"]
    for scenario in LABELS:
        rows = sorted((r for r in run["rows"] if r["scenario"] == scenario), key=lambda r: r["concurrency"])
        if not rows:
            continue
        xs = [r["concurrency"] for r in rows]
        color = colors.setdefault(scenario, f"C{len(colors)}")
        label = f"{LABELS[scenario]} [{db}]"
        ax_rps.plot(xs, [r["rps"] for r in rows], STYLES.get(db, "-"), marker="o", color=color, label=label)
        ax_p99.plot(xs, [r["p99Ms"] for r in rows], STYLES.get(db, "-"), marker="o", color=color, label=label)
        process = SERVING.get(scenario, "api")
        cpu = [(r["concurrency"], r.get("cpuUsPerRequest", {}).get(process)) for r in rows]
        cpu = [(x, y) for x, y in cpu if y is not None]
        if cpu:
            ax_cpu.plot(
                [x for x, _ in cpu],
                [y for _, y in cpu],
                STYLES.get(db, "-"),
                marker="o",
                color=color,
                label=f"{label} ({process})",
            )
for ax, title, ylabel in (
    (ax_rps, "Throughput", "requests/s (median)"),
    (ax_p99, "p99 latency", "ms (median)"),
    (ax_cpu, "CPU per request of the serving process", "CPU µs per request (median)"),
):
    ax.set_xscale("log", base=2)
    ax.set_xticks(report["options"]["concurrencies"])
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("concurrency (connections)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
ax_p99.set_yscale("log")
ax_rps.legend(fontsize=7)
ax_cpu.legend(fontsize=6)
m = report["machine"]
fig.suptitle(f"{m['cores']} cores, Node {m['node']}, {report['startedAt'][:10]} (solid: SQLite, dashed: PostgreSQL)")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
