"""C-MAPSS FD001 RUL model: the C++ engine side by side with the old NumPy implementation, in one run.

Steps timed on FD001 (20,631 training cycles, 100 test engines), default options (window 30,
500 random features, alpha 10, seed 0):
  features   window features of every training cycle
  fit        the whole fit (features, normalisation, random map, ridge solve), per model
  predict    RUL at each test engine's last cycle, per model
"cpp" is edgeswarm.maintenance (C++ with Eigen, GIL released); "numpy" is the NumPy reference kept
in tests/ml/test_maintenance.py (the implementation before the port, BLAS/LAPACK through NumPy).
Predictions are checked to agree (max relative difference printed) before timing. Times are the
median of several repeats; the table reports both and the ratio numpy / cpp.

    .venv/bin/python benchmarks/bench_maintenance.py --data ../shared/data/cmapss

writes benchmarks/results/maintenance.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from edgeswarm import maintenance as mt

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "maintenance.json"


def _reference():
    """The NumPy reference functions from tests/ml/test_maintenance.py."""
    spec = importlib.util.spec_from_file_location(
        "maintenance_reference", ROOT / "tests" / "ml" / "test_maintenance.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def default_data() -> Path | None:
    """``$EDGESWARM_DATA/cmapss``, else the first ``shared/data/cmapss`` beside the repo or above it."""
    env = os.environ.get("EDGESWARM_DATA")
    if env:
        return Path(env) / "cmapss"
    for folder in Path(__file__).resolve().parents:
        if (folder / "shared" / "data" / "cmapss").is_dir():
            return folder / "shared" / "data" / "cmapss"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="the folder with *_FD001.txt")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.data is None or not (args.data / "train_FD001.txt").is_file():
        print(f"C-MAPSS FD001 not found in {args.data}: pass --data or set EDGESWARM_DATA; skipped")
        return 0
    ref = _reference()
    data = mt.load_fd001(args.data)
    options = {"seed": 0, "window": 30, "n_features": 500, "alpha": 10.0}
    cols = mt.informative_columns(data.train)
    rows = []

    def add(step: str, cpp: Callable[[], object], numpy: Callable[[], object]) -> None:
        c = _median_seconds(cpp, args.repeats)
        n = _median_seconds(numpy, args.repeats)
        rows.append({"step": step, "cpp_ms": c * 1e3, "numpy_ms": n * 1e3, "numpy_over_cpp": n / c})

    add(
        "features (train)",
        lambda: mt.features(data.train, cols, 30),
        lambda: [ref._reference_engine_features(u[:, cols], 30) for u in mt._units(data.train)],
    )
    agreement = {}
    for model in mt.MODELS:
        fitted = mt.fit_maintenance(data.train, model=model, **options)
        reference = ref._reference_fit(data.train, model=model, **options)
        got, want = mt.predict_rul(fitted, data.test), ref._reference_predict(reference, data.test)
        agreement[model] = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))
        add(
            f"fit {model}",
            lambda m=model: mt.fit_maintenance(data.train, model=m, **options),
            lambda m=model: ref._reference_fit(data.train, model=m, **options),
        )
        add(
            f"predict {model}",
            lambda f=fitted: mt.predict_rul(f, data.test),
            lambda r=reference: ref._reference_predict(r, data.test),
        )
    print(f"max relative difference of the test predictions, C++ vs NumPy: {agreement}")
    print("| step | C++ ms | NumPy ms | NumPy / C++ |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['step']} | {r['cpp_ms']:.1f} | {r['numpy_ms']:.1f} | {r['numpy_over_cpp']:.2f} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
                "numpy": np.__version__,
                "repeats": args.repeats,
                "max_relative_difference": agreement,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
