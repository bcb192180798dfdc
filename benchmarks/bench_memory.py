"""Memory of the long-running service: RSS over one simulated day of the demo in fast-forward.

    python benchmarks/bench_memory.py [--epochs 172800] [--warmup 10000] [--points 12]
                                      [--output benchmarks/results/memory.json]

The service as `edgeswarm serve` builds it (`create_app(Settings(realtime=False, ...))` in a
TestClient: SQLite store, hub, the default edge fleet of 50 devices, the swarm of 100 nodes at
500 ms epochs) is stepped as fast as it goes, `app.state.swarm_loop.step()` back to back, for
`--epochs` epochs (172,800 = one simulated day at 2 Hz). RSS (VmRSS in /proc/self/status) is
read after `--warmup` epochs (the in-memory history, the detectors' windows and the allocator
are full by then) and at `--points` evenly spaced epochs after it; each point also polls
/api/status and /api/history as a dashboard would. The figure is the growth from the
warm-up point to the end; the issue's bound is 20 MB per simulated day.

Writes the JSON after every point (a long run can be read while it goes) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "memory.json"
EPOCHS_PER_DAY = 172_800  # 86,400 s at 500 ms per epoch
BOUND_MB = 20.0


def rss_mb() -> float:
    """Resident set size of this process, from /proc/self/status (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS line in /proc/self/status")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def held(app: Any) -> dict[str, Any]:
    """What the service holds that could grow: history rows, swarm epochs, edge records."""
    swarm_loop = app.state.swarm_loop
    edge = app.state.edge
    summary = edge.summary() if edge is not None else {}
    return {
        "loop_history_rows": len(swarm_loop.history(10**9)),
        "swarm_history_epochs": len(swarm_loop.swarm.history()),
        "emergencies": summary.get("emergencies", {}).get("total"),
        "alerts_raised": summary.get("alerts", {}).get("raised"),
        "link_in_flight": summary.get("link", {}).get("in_flight"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS_PER_DAY, help="epochs in all (warm-up included)")
    parser.add_argument("--warmup", type=int, default=10_000, help="epochs before the first RSS point")
    parser.add_argument("--points", type=int, default=12, help="RSS points after the warm-up")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 0 < args.warmup < args.epochs or args.points < 1:
        parser.error("need 0 < --warmup < --epochs and --points >= 1")

    from edgeswarm.service import Settings, create_app
    from fastapi.testclient import TestClient

    directory = Path(tempfile.mkdtemp(prefix="edgeswarm-memory-"))
    settings = Settings(
        realtime=False, db_path=directory / "memory.db", admin_password="bench-memory-password"
    )
    marks = [
        args.warmup + round(i * (args.epochs - args.warmup) / args.points) for i in range(args.points + 1)
    ]
    result: dict[str, Any] = {
        "command": "python " + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine(),
        "settings": {"nodes": settings.nodes, "epoch_ms": settings.epoch_ms, "devices": settings.devices},
        "epochs": args.epochs,
        "warmup_epochs": args.warmup,
        "bound_mb": BOUND_MB,
        "rss_start_mb": round(rss_mb(), 1),
        "points": [],
    }
    print("| epoch | elapsed s | RSS MB | growth since warm-up MB | loop rows | swarm epochs | emergencies |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with TestClient(create_app(settings)) as client:
        swarm_loop = client.app.state.swarm_loop
        started = time.perf_counter()
        for mark in marks:
            while swarm_loop.epoch < mark:
                swarm_loop.step()
            client.get("/api/status").raise_for_status()
            client.get("/api/history", params={"limit": 3600}).raise_for_status()
            point = {
                "epoch": swarm_loop.epoch,
                "elapsed_s": round(time.perf_counter() - started, 1),
                "rss_mb": round(rss_mb(), 2),
                **held(client.app),
            }
            result["points"].append(point)
            growth = point["rss_mb"] - result["points"][0]["rss_mb"]
            result["growth_mb"] = round(growth, 2)
            result["growth_mb_per_day"] = round(
                growth * EPOCHS_PER_DAY / max(point["epoch"] - args.warmup, 1), 2
            )
            result["within_bound"] = result["growth_mb_per_day"] < BOUND_MB
            result["db_mb"] = round(settings.db_path.stat().st_size / 2**20, 1)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
            print(
                f"| {point['epoch']} | {point['elapsed_s']} | {point['rss_mb']:.1f} | {growth:+.1f} | "
                f"{point['loop_history_rows']} | {point['swarm_history_epochs']} | {point['emergencies']} |",
                flush=True,
            )
    print(
        f"RSS growth after warm-up: {result['growth_mb']:+.1f} MB over {args.epochs - args.warmup} epochs "
        f"({result['growth_mb_per_day']:+.1f} MB per simulated day; bound {BOUND_MB:.0f} MB); "
        f"wrote {args.output}"
    )
    return 0 if result["within_bound"] else 1


if __name__ == "__main__":
    sys.exit(main())
