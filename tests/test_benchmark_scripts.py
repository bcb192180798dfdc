"""Every benchmark script imports against the current package (make test does not run them)."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if p.name != "run_all.py")  # run_all runs them all


def test_there_are_benchmark_scripts() -> None:
    assert len(SCRIPTS) >= 8


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_benchmark_script_imports(script: Path) -> None:
    # Not as __main__: the module's imports and definitions run, its benchmark does not.
    namespace = runpy.run_path(str(script), run_name="benchmark_import_check")
    assert callable(namespace.get("main")) or script.name in ("bare_app.py", "http_load.py")


def test_the_ml_speed_benchmark_runs_its_smoke_size(tmp_path: Path) -> None:
    out = tmp_path / "ml.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_ml.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(out.read_text())["detectors"]
