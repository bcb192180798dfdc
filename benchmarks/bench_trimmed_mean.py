"""Trimmed mean: the C++ kernel side by side with NumPy, in one run.

For each (n, d, f) the same int32 raw Q16.16 matrix goes through
  cpp           edgeswarm._core.trimmed_mean (AVX-512 kernel when the CPU has it, one thread)
  cpp_portable  edgeswarm._core.trimmed_mean_portable (std::nth_element per column)
  np_partition  np.partition(v, (f, n - f - 1), axis=0), int64 sum of rows f..n-f-1, rounding rule
  np_sort       np.sort(v, axis=0), same sum
  colsum_cpp    edgeswarm._core.column_sum: one streaming pass (exact int64 column sums)
  colsum_np     v.sum(axis=0, dtype=np.int64): the same pass in NumPy
All trimmed means are checked equal before timing. Times are the median of
several repeats, reported in ns per element (n * d).

    .venv/bin/python benchmarks/bench_trimmed_mean.py [--quick]

writes benchmarks/results/trimmed_mean.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from edgeswarm import _core

RESULTS = Path(__file__).resolve().parent / "results" / "trimmed_mean.json"
MAX_ELEMENTS = 10_000_000


def div_round(num: np.ndarray, den: int) -> np.ndarray:
    """Round to nearest, ties away from zero (the project rule), int64 in."""
    mag = np.abs(num)
    q = mag // den + (2 * (mag % den) >= den)
    return np.where(num < 0, -q, q).astype(np.int32)


def np_partition(v: np.ndarray, f: int) -> np.ndarray:
    n = v.shape[0]
    p = np.partition(v, (f, n - f - 1), axis=0) if f > 0 else v
    return div_round(p[f : n - f].sum(axis=0, dtype=np.int64), n - 2 * f)


def np_sort(v: np.ndarray, f: int) -> np.ndarray:
    n = v.shape[0]
    return div_round(np.sort(v, axis=0)[f : n - f].sum(axis=0, dtype=np.int64), n - 2 * f)


def seconds_per_call(fn: Callable[[], object], repeats: int) -> float:
    """Median over repeats of the time per call; each repeat runs enough calls to last ~20 ms."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(0.02 / once))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def make_values(n: int, d: int, seed: int) -> np.ndarray:
    """Sensor-like reports: N(20, 2) real units, 30 % of rows biased by +50 (Byzantine)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(20.0, 2.0, size=(n, d))
    x[rng.random(n) < 0.3] += 50.0
    return _core.to_q16(x)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    ns = (100, 1000) if args.quick else (100, 1000, 10_000)
    ds = (1, 100) if args.quick else (1, 100, 1000)

    rows = []
    for n in ns:
        for d in ds:
            if n * d > MAX_ELEMENTS:
                continue
            v = make_values(n, d, seed=n * 1009 + d)
            for frac in (0.1, 0.3):
                f = int(frac * n)
                expected = _core.trimmed_mean(v, f)
                for name, fn in (
                    ("cpp_portable", _core.trimmed_mean_portable),
                    ("np_partition", np_partition),
                    ("np_sort", np_sort),
                ):
                    np.testing.assert_array_equal(fn(v, f), expected, err_msg=name)
                np.testing.assert_array_equal(_core.column_sum(v), v.sum(axis=0, dtype=np.int64))
                e = n * d
                calls = {
                    "cpp": partial(_core.trimmed_mean, v, f),
                    "cpp_portable": partial(_core.trimmed_mean_portable, v, f),
                    "np_partition": partial(np_partition, v, f),
                    "np_sort": partial(np_sort, v, f),
                    "colsum_cpp": partial(_core.column_sum, v),
                    "colsum_np": partial(v.sum, axis=0, dtype=np.int64),
                }
                t = {name: seconds_per_call(fn, repeats) for name, fn in calls.items()}
                row = {"n": n, "d": d, "f": f, "trim": frac}
                row.update({f"{k}_ns_per_element": s * 1e9 / e for k, s in t.items()})
                row["np_partition_over_cpp"] = t["np_partition"] / t["cpp"]
                row["np_sort_over_cpp"] = t["np_sort"] / t["cpp"]
                row["cpp_over_colsum_cpp"] = t["cpp"] / t["colsum_cpp"]
                row["cpp_over_colsum_np"] = t["cpp"] / t["colsum_np"]
                rows.append(row)
                print(
                    f"n={n:>5} d={d:>4} f={f:>4}: cpp {row['cpp_ns_per_element']:.2f} ns/el, "
                    f"np.partition x{row['np_partition_over_cpp']:.1f}, "
                    f"vs C++ column sum x{row['cpp_over_colsum_cpp']:.1f}",
                    flush=True,
                )

    meta = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "threads": 1,
        "simd": "AVX-512" if _core.trimmed_mean_uses_simd() else "none (portable path)",
        "numpy": np.__version__,
        "python": platform.python_version(),
        "repeats": repeats,
        "statistic": "median seconds per call over repeats, divided by n * d",
        "data": "N(20, 2) real units as Q16.16, 30% of rows +50",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print()
    print(markdown(meta, rows))


def markdown(meta: dict, rows: list[dict]) -> str:
    head = (
        "| n | d | f | C++ kernel | C++ portable | np.partition | np.sort | C++ column sum | NumPy sum "
        "| np.partition / C++ | np.sort / C++ | C++ / C++ column sum | C++ / NumPy sum |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    caption = (
        f"ns per element, median of {meta['repeats']} repeats; {meta['cpu']}, {meta['threads']} thread, "
        f"SIMD: {meta['simd']}, NumPy {meta['numpy']}."
    )
    lines = [caption, "", head]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['d']} | {r['f']} ({r['trim']:.0%}) | {r['cpp_ns_per_element']:.2f} "
            f"| {r['cpp_portable_ns_per_element']:.2f} | {r['np_partition_ns_per_element']:.2f} "
            f"| {r['np_sort_ns_per_element']:.2f} | {r['colsum_cpp_ns_per_element']:.2f} "
            f"| {r['colsum_np_ns_per_element']:.2f} | {r['np_partition_over_cpp']:.1f} "
            f"| {r['np_sort_over_cpp']:.1f} | {r['cpp_over_colsum_cpp']:.1f} | {r['cpp_over_colsum_np']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
