"""Edge ML speed: every detector of edgeswarm.ml, River's HalfSpaceTrees and the fleet generator, in one run.

    .venv/bin/python benchmarks/bench_ml.py [--quick] [--repeats 3] [--river-samples 20000]

Side by side, on seeded data made here:
  detectors   every streaming detector class of edgeswarm.ml (found at run time), default options
              and, where it has a ``dim`` option, also dim 3: samples per second of one batched
              ``score`` call on one thread (the C++ runs with the GIL released), best of the repeats;
              each series is sized for about a second per call (1 M to 10 M samples)
  River       river.anomaly.HalfSpaceTrees with the same n_trees / height / window, one
              ``score_one`` + ``learn_one`` per sample (its API) over the first samples of the same
              series, against edgeswarm's HalfSpaceTrees over those same samples; River is optional
              (``pip install -e ".[bench]"``, which ``make bench`` does): when missing, says so and
              runs the rest
  fleet       readings per second of ``edgeswarm.fleet.Fleet(100_000).readings`` with the engine's
              default OpenMP threads, and with one thread (a subprocess with OMP_NUM_THREADS=1)

Writes benchmarks/results/ml.json and prints Markdown tables with the targets met or missed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from edgeswarm import fleet
from edgeswarm.ml import detectors as ml

RESULTS = Path(__file__).resolve().parent / "results" / "ml.json"
SEED = 20240
FLEET_DEVICES = 100_000
# Targets from the edge-ML issue: samples (readings) per second.
TARGETS = {"EwmaZScore": 50e6, "HalfSpaceTrees": 1e6, "fleet": 10e6}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def detector_classes() -> dict[str, type]:
    """Every public streaming detector of edgeswarm.ml, by class name."""
    found = {}
    for name in ml.__all__:
        obj = getattr(ml, name)
        if isinstance(obj, type) and issubclass(obj, ml._Detector):
            found[name] = obj
    return found


def configurations(classes: dict[str, type]) -> list[tuple[str, type, dict[str, Any]]]:
    """(label, class, options): default options, plus dim 3 where the detector takes a dim."""
    configs = []
    for name, cls in classes.items():
        params = inspect.signature(cls).parameters
        dims = [params["dim"].default] if "dim" in params else [1]
        if "dim" in params and 3 not in dims:
            dims.append(3)
        for dim in dims:
            options = {"dim": dim} if "dim" in params else {}
            configs.append((name, cls, options))
    return configs


class Series:
    """Seeded sensor-like series: noise, a slow cycle and rare spikes; rows of ``dim`` for dim > 1."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._cache: dict[int, np.ndarray] = {}

    def get(self, n: int, dim: int) -> np.ndarray:
        have = self._cache.get(dim)
        if have is None or len(have) < n:
            rng = np.random.default_rng([self.seed, dim])
            shape = (n,) if dim == 1 else (n, dim)
            x = rng.normal(size=shape)
            cycle = 0.5 * np.sin(np.arange(n) * (2 * np.pi / 1000))
            x += cycle if dim == 1 else cycle[:, None]
            spikes = rng.choice(n, size=n // 1000, replace=False)
            if dim == 1:
                x[spikes] += 10.0
            else:
                x[spikes, rng.integers(0, dim, size=len(spikes))] += 10.0
            self._cache[dim] = have = x
        return have[:n]


def best_seconds(run: Callable[[], object], make: Callable[[], object] | None, repeats: int) -> float:
    """Best wall time of ``run(make())`` over the repeats; making the detector is not timed."""
    best = float("inf")
    for _ in range(repeats):
        obj = make() if make is not None else None
        t0 = time.perf_counter()
        run(obj)
        best = min(best, time.perf_counter() - t0)
    return best


def bench_detectors(series: Series, repeats: int, quick: bool) -> list[dict]:
    lo, hi, seconds = (100_000, 1_000_000, 0.1) if quick else (1_000_000, 10_000_000, 1.0)
    rows = []
    for name, cls, options in configurations(detector_classes()):
        dim = options.get("dim", 1)
        probe = series.get(20_000, dim)
        make = partial(cls, **options)
        t = best_seconds(lambda d, x=probe: d.score(x), make, 1)
        # Sized for about `seconds` per call, in steps of 100,000 samples.
        n = int(min(hi, max(lo, round(len(probe) / t * seconds, -5))))
        x = series.get(n, dim)
        t = best_seconds(lambda d, x=x: d.score(x), make, repeats)
        row = {"detector": name, "options": options, "dim": dim, "samples": n, "seconds": t}
        row["samples_per_s"] = n / t
        target = TARGETS.get(name)
        if target is not None:
            row["target_samples_per_s"] = target
            row["target_met"] = row["samples_per_s"] >= target
        rows.append(row)
        print(f"{name} {options}: {row['samples_per_s'] / 1e6:.2f} M samples/s over {n:,}", flush=True)
    return rows


def bench_river(series: Series, samples: int, repeats: int) -> dict:
    try:
        import river
        from river import anomaly
    except ImportError:
        msg = 'River is not installed: pip install -e ".[bench]" (make bench installs it); River rows skipped'
        print(msg, flush=True)
        return {"installed": False, "note": msg}
    defaults = inspect.signature(ml.HalfSpaceTrees).parameters
    n_trees, depth, window = (defaults[k].default for k in ("n_trees", "depth", "window"))
    rows = []
    for dim in (1, 3):
        x = series.get(samples, dim).reshape(samples, dim)
        names = [f"x{j}" for j in range(dim)]
        # River's trees assume features in [0, 1] unless told their limits: give it the data's range.
        limits = {f: (float(x[:, j].min()), float(x[:, j].max())) for j, f in enumerate(names)}
        model = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=depth, window_size=window, limits=limits, seed=1
        )
        dicts = [dict(zip(names, row, strict=True)) for row in x.tolist()]
        t0 = time.perf_counter()
        for d in dicts:
            model.score_one(d)
            model.learn_one(d)
        river_s = time.perf_counter() - t0
        ours_x = x[:, 0].copy() if dim == 1 else x
        ours_s = best_seconds(
            lambda d, v=ours_x: d.score(v), lambda dim=dim: ml.HalfSpaceTrees(dim=dim), repeats
        )
        row = {
            "dim": dim,
            "samples": samples,
            "n_trees": n_trees,
            "height": depth,
            "window": window,
            "river_samples_per_s": samples / river_s,
            "edgeswarm_samples_per_s": samples / ours_s,
        }
        row["speedup"] = row["edgeswarm_samples_per_s"] / row["river_samples_per_s"]
        rows.append(row)
        print(
            f"River HalfSpaceTrees dim {dim}: {row['river_samples_per_s']:,.0f} samples/s; "
            f"edgeswarm x{row['speedup']:.0f}",
            flush=True,
        )
    return {"installed": True, "version": river.__version__, "rows": rows}


def fleet_rate(steps: int, repeats: int) -> dict:
    f = fleet.Fleet(FLEET_DEVICES, seed=1)
    t = best_seconds(lambda _: f.readings(steps=steps, dt_s=60.0), None, repeats)
    readings = FLEET_DEVICES * steps
    return {
        "devices": FLEET_DEVICES,
        "steps": steps,
        "readings": readings,
        "seconds": t,
        "readings_per_s": readings / t,
    }


def bench_fleet(steps: int, repeats: int) -> list[dict]:
    rows = []
    default = fleet_rate(steps, repeats)
    default["threads"] = os.environ.get("OMP_NUM_THREADS", f"OpenMP default ({os.cpu_count()} CPUs)")
    rows.append(default)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, __file__, "--fleet-only", "--steps", str(steps), "--repeats", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    one = json.loads(out.stdout.strip().splitlines()[-1])
    one["threads"] = "1"
    rows.append(one)
    for r in rows:
        r["target_readings_per_s"] = TARGETS["fleet"]
        r["target_met"] = r["readings_per_s"] >= TARGETS["fleet"]
        print(f"fleet, threads {r['threads']}: {r['readings_per_s'] / 1e6:.2f} M readings/s", flush=True)
    return rows


def millions(v: float) -> str:
    return f"{v / 1e6:.2f}"


def markdown(result: dict) -> str:
    meta = result["meta"]
    caption = (
        f"Best of {meta['repeats']} repeats; {meta['cpu']}, {meta['logical_cpus']} logical CPUs, "
        f"NumPy {meta['numpy']}, Python {meta['python']}."
    )
    lines = [
        caption,
        "",
        "| detector | options | samples | M samples/s (1 thread) | target | met |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in result["detectors"]:
        opts = ", ".join(f"{k}={v}" for k, v in r["options"].items()) or "defaults"
        target = f"{millions(r['target_samples_per_s'])} M" if "target_samples_per_s" in r else ""
        met = ("yes" if r["target_met"] else "**no**") if "target_met" in r else ""
        lines.append(
            f"| {r['detector']} | {opts} | {r['samples']:,} | {millions(r['samples_per_s'])} | {target} | {met} |"
        )
    river = result["river"]
    lines.append("")
    if river["installed"]:
        lines += [
            (
                f"River {river['version']} `anomaly.HalfSpaceTrees` (score_one + learn_one per sample) "
                "against edgeswarm's `HalfSpaceTrees` on the same samples, same trees / height / window:"
            ),
            "",
            "| dim | samples | trees / height / window | River samples/s | edgeswarm samples/s | speed-up |",
            "|---:|---:|---|---:|---:|---:|",
        ]
        for r in river["rows"]:
            lines.append(
                f"| {r['dim']} | {r['samples']:,} | {r['n_trees']} / {r['height']} / {r['window']} "
                f"| {r['river_samples_per_s']:,.0f} | {r['edgeswarm_samples_per_s']:,.0f} | {r['speedup']:.0f}x |"
            )
    else:
        lines.append(river["note"])
    lines += [
        "",
        f"Fleet generator, {FLEET_DEVICES:,} devices (`Fleet(...).readings`):",
        "",
        "| threads | readings | M readings/s | target | met |",
        "|---|---:|---:|---:|---|",
    ]
    for r in result["fleet"]:
        lines.append(
            f"| {r['threads']} | {r['readings']:,} | {millions(r['readings_per_s'])} "
            f"| {millions(r['target_readings_per_s'])} M | {'yes' if r['target_met'] else '**no**'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--river-samples", type=int, default=20_000)
    parser.add_argument("--steps", type=int, default=50, help="fleet readings per device")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--fleet-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    if args.fleet_only:  # the one-thread fleet run, in its own process
        print(json.dumps(fleet_rate(args.steps, repeats)))
        return
    steps = min(args.steps, 5) if args.quick else args.steps
    river_samples = min(args.river_samples, 2_000) if args.quick else args.river_samples

    series = Series(SEED)
    result = {
        "meta": {
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "numpy": np.__version__,
            "python": platform.python_version(),
            "repeats": repeats,
            "seed": SEED,
            "statistic": "best wall time over repeats of one batched call; samples (readings) / seconds",
            "data": "N(0, 1) + 0.5 sin(2 pi t / 1000), one sample in 1000 spiked by +10 (one feature for dim > 1)",
        },
        "detectors": bench_detectors(series, repeats, args.quick),
        "river": bench_river(series, river_samples, repeats),
        "fleet": bench_fleet(steps, repeats),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(markdown(result))


if __name__ == "__main__":
    main()
