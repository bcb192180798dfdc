"""Raft: commit throughput and election time after a leader crash (5 nodes, simulated network).

    python benchmarks/bench_raft.py [--repeats 3] [--trials 1000] [--driver build/bench/raft_throughput]

Runs the C++ driver benchmarks/raft_throughput.cpp (built by `make bench-cpp`; built here
if missing) and, for one configuration, the same load through the Python API
(es.RaftCluster). Writes benchmarks/results/raft.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "raft.json"
DRIVER = ROOT / "build" / "bench" / "raft_throughput"

# Throughput rows: (label, driver keys). Latency is a fixed 1 ms one way.
UNBATCHED = {"batch": 1, "offered": 0, "sim_ms": 20_000}
BATCHED = {"batch": 64, "offered": 64, "sim_ms": 2_000}
EXTRA = [
    ("1 entry per message, 64 proposals/ms", {"batch": 1, "offered": 64, "sim_ms": 2_000}),
    ("batched, 512 proposals/ms", {"batch": 64, "offered": 512, "sim_ms": 500}),
    (
        "batched, raw 8-byte payloads (as the Python row)",
        {"batch": 64, "offered": 64, "sim_ms": 2_000, "kv": 0},
    ),
]
CDF_PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100)
ELECTION_RANGES = [(150, 151), (150, 155), (150, 200), (150, 300)]


def build_driver() -> None:
    build = ROOT / "build" / "bench"
    subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT),
            "-B",
            str(build),
            "-DEDGESWARM_BENCHMARKS=ON",
            "-DBUILD_TESTING=OFF",
            "-DCMAKE_BUILD_TYPE=Release",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["cmake", "--build", str(build), "-j", "2", "--target", "raft_throughput"],
        check=True,
        capture_output=True,
    )


def display(driver: Path) -> str:
    return str(driver.relative_to(ROOT) if driver.is_relative_to(ROOT) else driver)


def run_driver(driver: Path, mode: str, **keys: object) -> dict:
    args = [str(driver), mode] + [f"{k}={v}" for k, v in keys.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def throughput(driver: Path, repeats: int, **keys: object) -> dict:
    runs = [run_driver(driver, "throughput", **keys) for _ in range(repeats)]
    row = dict(runs[0])
    for r in runs:
        if r["commits"] != row["commits"] or r["messages"] != row["messages"]:
            raise RuntimeError(f"non-deterministic run: {r} vs {row}")
        if r["violations"] or not r["all_applied"]:
            raise RuntimeError(f"bad run: {r}")
    # Best of the repeats: the machine is shared, so the slower runs measure other work.
    row["wall_s"] = min(r["wall_s"] for r in runs)
    row["wall_s_all"] = [r["wall_s"] for r in runs]
    row["commits_per_s"] = row["commits"] / row["wall_s"]
    row["simulated_commits_per_s"] = row["commits"] / (row["simulated_us"] / 1e6)
    row["messages_per_commit"] = row["messages"] / row["commits"]
    row["bytes_per_commit"] = row["bytes"] / row["commits"]
    row["command"] = f"{display(driver)} throughput " + " ".join(f"{k}={v}" for k, v in keys.items())
    return row


def python_api(repeats: int, offered: int = 64, sim_ms: int = 1000) -> dict:
    """The batched load through es.RaftCluster (fsync 100 us, checker off)."""
    import edgeswarm as es

    walls = []
    for _ in range(repeats):
        c = es.RaftCluster(
            n=5, seed=1, latency_ms=(1, 1), fsync_us=100, max_entries_per_msg=64, check_invariants=False
        )
        leader = c.run_until_leader(timeout_ms=10_000)
        c.run(ms=100)
        commit0 = c.commit_index(leader)
        payloads = [b"v%07d" % i for i in range(offered * sim_ms)]
        t0 = time.perf_counter()
        k = 0
        for _ms in range(sim_ms):
            for _ in range(offered):
                if c.propose(payloads[k]) is None:
                    raise RuntimeError("leader lost")
                k += 1
            c.run(ms=1)
        walls.append(time.perf_counter() - t0)
        commits = c.commit_index(leader) - commit0
        if c.violations():
            raise RuntimeError("violations")
    wall = min(walls)
    return {
        "label": "Python API (es.RaftCluster.propose + run(ms=1))",
        "fsync_us": 100,
        "batch": 64,
        "offered_per_ms": offered,
        "check": 0,
        "commits": commits,
        "wall_s": wall,
        "wall_s_all": walls,
        "commits_per_s": commits / wall,
        "simulated_commits_per_s": commits / (sim_ms / 1000),
    }


def nearest_rank(sorted_values: list[int], q: float) -> int:
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def elections(driver: Path, trials: int, **keys: object) -> dict:
    d = run_driver(driver, "elections", trials=trials, **keys)
    if d["violations"]:
        raise RuntimeError(f"violations in election trials: {d['violations']}")
    down = sorted(d["down_us"])
    serving = sorted(d["serving_us"])
    terms = d["terms"]
    done = len(down)
    summary = {k: v for k, v in d.items() if k not in ("down_us", "serving_us", "terms")}
    if done:
        summary.update(
            down_median_ms=statistics.median(down) / 1000,
            down_p99_ms=nearest_rank(down, 0.99) / 1000,
            down_max_ms=down[-1] / 1000,
            down_min_ms=down[0] / 1000,
            serving_median_ms=statistics.median(serving) / 1000,
            serving_max_ms=serving[-1] / 1000,
            mean_terms=sum(terms) / done,
            split_fraction=sum(1 for t in terms if t > 1) / done,
        )
    summary["command"] = f"{display(driver)} elections trials={trials} " + " ".join(
        f"{k}={v}" for k, v in keys.items()
    )
    # The distribution as a CDF (the raw times are reproducible from the seeds).
    summary["down_cdf_ms"] = (
        {str(q): nearest_rank(down, q / 100) / 1000 for q in CDF_PERCENTILES} if done else {}
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="throughput runs per row (best wall time)")
    parser.add_argument("--trials", type=int, default=1000, help="crashes per election-timeout range")
    parser.add_argument("--driver", type=Path, default=DRIVER)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    driver = args.driver.resolve()
    if not driver.exists():
        print(f"building {driver} ...", file=sys.stderr, flush=True)
        build_driver()

    t_start = time.perf_counter()
    rows = []
    for fsync in (100, 0):
        for check in (1, 0):
            for label, keys in (
                ("unbatched (1 entry/msg, 1 in flight)", UNBATCHED),
                ("batched (64/msg, 64 proposals/ms)", BATCHED),
            ):
                row = throughput(driver, args.repeats, fsync_us=fsync, check=check, **keys)
                row["label"] = label
                rows.append(row)
                print(
                    f"throughput {label} fsync={fsync} check={check}: {row['commits_per_s']:,.0f}/s",
                    file=sys.stderr,
                    flush=True,
                )
    for label, keys in EXTRA:
        row = throughput(driver, args.repeats, fsync_us=100, check=0, **keys)
        row["label"] = label
        rows.append(row)
    py = python_api(args.repeats)
    raw = next(r for r in rows if r.get("kv") == 0)
    py["cpp_raw_commits_per_s"] = raw["commits_per_s"]
    py["python_over_cpp"] = py["commits_per_s"] / raw["commits_per_s"]

    election_rows = []
    for lo, hi in ELECTION_RANGES:
        for pv in (1, 0):
            r = elections(driver, args.trials, min_ms=lo, max_ms=hi, pre_vote=pv, check_quorum=pv)
            r["variant"] = "PreVote + CheckQuorum" if pv else "plain Raft (paper)"
            r["table"] = "main"
            election_rows.append(r)
            print(
                f"elections {lo}-{hi} pre_vote={pv}: median {r['down_median_ms']:.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    for lo, hi in ELECTION_RANGES[1:]:
        r = elections(driver, args.trials, min_ms=lo, max_ms=hi, sync=0)
        r["variant"] = "PreVote + CheckQuorum, crash at a random instant"
        r["table"] = "sensitivity"
        election_rows.append(r)
    for lo, hi in ELECTION_RANGES[:2]:
        r = elections(
            driver, 200, min_ms=lo, max_ms=hi, latency_min_us=1000, latency_max_us=1000, cap_ms=10_000
        )
        r["variant"] = "PreVote + CheckQuorum, fixed 1 ms latency"
        r["table"] = "sensitivity"
        election_rows.append(r)
    total = time.perf_counter() - t_start

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": {
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                },
                "total_wall_s": total,
                "throughput": rows,
                "python_api": py,
                "elections": election_rows,
            },
            indent=1,
        )
    )

    print("\n### Throughput (5 nodes, 1 ms one-way latency, commits counted at the leader's commit index)\n")
    print(
        "| load | fsync | checker | commits | wall (s) | commits/s (wall) | commits/s (simulated) | msgs/commit | bytes/commit | ≥ 100k/s |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['label']} | {r['fsync_us']} µs | {'on' if r['check'] else 'off'} | {r['commits']:,} | {r['wall_s']:.3f} | "
            f"{r['commits_per_s']:,.0f} | {r['simulated_commits_per_s']:,.0f} | {r['messages_per_commit']:.2f} | "
            f"{r['bytes_per_commit']:.0f} | {'yes' if r['commits_per_s'] >= 100_000 else 'no'} |"
        )
    print(
        f"| {py['label']} | 100 µs | off | {py['commits']:,} | {py['wall_s']:.3f} | {py['commits_per_s']:,.0f} | "
        f"{py['simulated_commits_per_s']:,.0f} | | | {'yes' if py['commits_per_s'] >= 100_000 else 'no'} |"
    )
    print(
        f"\nPython API / C++ driver on the same load (raw payloads, fsync 100 µs, checker off): "
        f"{py['python_over_cpp']:.2f}x"
    )

    print("\nRatios (commits per wall-clock second):\n")
    print("| fsync | checker | batched / unbatched | checker off / on (batched) |")
    print("|---:|---|---:|---:|")
    by = {(r["fsync_us"], r["check"], r["batch"], r["offered_per_ms"]): r for r in rows}
    for fsync in (100, 0):
        for check in (1, 0):
            b = by[(fsync, check, 64, 64)]["commits_per_s"]
            u = by[(fsync, check, 1, 0)]["commits_per_s"]
            off_on = by[(fsync, 0, 64, 64)]["commits_per_s"] / by[(fsync, 1, 64, 64)]["commits_per_s"]
            print(f"| {fsync} µs | {'on' if check else 'off'} | {b / u:.1f}x | {off_on:.2f}x |")

    print("\n### Election time after a leader crash (5 nodes, heartbeat 50 ms, latency uniform 1–5 ms)\n")
    print(
        "| election timeout | variant | trials | median (ms) | p99 (ms) | max (ms) | min (ms) | to first commit, median (ms) | terms per election (mean) | trials with > 1 term |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in election_rows:
        if "down_median_ms" not in r:
            print(
                f"| {r['min_ms']}–{r['max_ms']} ms | {r['variant']} | {r['trials']} | no leader in "
                f"{r['cap_us'] / 1e6:g} s ({r['no_first_leader']} of {r['trials']} clusters never elected one) | | | | | | |"
            )
            continue
        print(
            f"| {r['min_ms']}–{r['max_ms']} ms | {r['variant']} | {r['trials']} | {r['down_median_ms']:.1f} | {r['down_p99_ms']:.1f} | "
            f"{r['down_max_ms']:.1f} | {r['down_min_ms']:.1f} | {r['serving_median_ms']:.1f} | {r['mean_terms']:.2f} | "
            f"{100 * r['split_fraction']:.1f} % |"
        )
    print(f"\nTotal: {total:.1f} s wall.")


if __name__ == "__main__":
    main()
