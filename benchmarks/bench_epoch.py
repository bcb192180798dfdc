"""One swarm epoch and peak memory at 100 to 1,000,000 nodes (dim 1 and 16).

    python benchmarks/bench_epoch.py [--sizes 100 10000 100000 1000000] [--dims 1 16] [--epochs 5]

Each configuration runs in a fresh subprocess so that its peak resident memory is its own.
Writes benchmarks/results/epoch.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "epoch.json"

CHILD = r"""
import json, resource, sys, time
import numpy as np
import edgeswarm as es
n, dim, epochs, threads, topology = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
swarm = es.Swarm(n_nodes=n, dim=dim, seed=1, threads=threads, topology=topology, degree=8)
swarm.inject_byzantine(count=n // 10, bias=0.9)
swarm.run(1, progress=False)  # warm-up: first-touch of every array
times = []
for _ in range(epochs):
    t0 = time.perf_counter()
    swarm._engine.run(1)
    times.append(time.perf_counter() - t0)
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": n, "dim": dim, "threads": threads, "topology": topology,
                  "epoch_s_median": float(np.median(times)), "epoch_s_min": float(np.min(times)),
                  "peak_rss_mb": peak_kb / 1024, "rss_growth_bytes_per_node": (peak_kb - base_kb) * 1024 / n,
                  "state_bytes_per_node": swarm.state_bytes_per_node}))
"""


def measure(n: int, dim: int, epochs: int, threads: int, topology: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(dim), str(epochs), str(threads), topology],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--topology", default="complete")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    rows = []
    for dim in args.dims:
        for n in args.sizes:
            for threads in args.threads:
                row = measure(n, dim, args.epochs, threads, args.topology)
                rows.append(row)
                print(
                    f"n={n:>9,} dim={dim:>2} threads={threads}: {row['epoch_s_median'] * 1e3:9.2f} ms/epoch, "
                    f"peak {row['peak_rss_mb']:8.1f} MB",
                    file=sys.stderr,
                    flush=True,
                )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"topology": args.topology, "rows": rows}, indent=1))

    print(
        f"\nTopology {args.topology}, 10 % Byzantine (bias attack), trimmed mean 0.3, reputation on; "
        f"median of {args.epochs} epochs after one warm-up epoch.\n"
    )
    print(
        "| nodes | dim | threads | epoch (ms) | ns per node | peak RSS (MB) | RSS growth (B/node) "
        "| engine state (B/node) | speed-up vs 1 thread |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    single = {(r["n"], r["dim"]): r["epoch_s_median"] for r in rows if r["threads"] == 1}
    for r in rows:
        base = single.get((r["n"], r["dim"]))
        speedup = f"{base / r['epoch_s_median']:.2f}x" if base else "-"
        print(
            f"| {r['n']:,} | {r['dim']} | {r['threads']} | {r['epoch_s_median'] * 1e3:.2f} | "
            f"{r['epoch_s_median'] * 1e9 / r['n']:.0f} | {r['peak_rss_mb']:.1f} | "
            f"{r['rss_growth_bytes_per_node']:.0f} | {r['state_bytes_per_node']:.0f} | {speedup} |"
        )


if __name__ == "__main__":
    main()
