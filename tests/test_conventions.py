"""Project conventions: `python -m edgeswarm` is the console script; the version lives in pyproject.toml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import edgeswarm as es

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=False, capture_output=True, text=True, timeout=120)


def test_python_dash_m_runs_the_console_script() -> None:
    script = str(Path(sys.executable).with_name("edgeswarm"))
    for argv in (["--version"], ["run", "--nodes", "20", "--epochs", "3", "--seed", "4"]):
        as_module = _run(sys.executable, "-m", "edgeswarm", *argv)
        as_script = _run(script, *argv)
        assert as_module.returncode == as_script.returncode == 0, as_module.stderr
        assert as_module.stdout == as_script.stdout
        assert as_module.stdout.strip()
    bad = _run(sys.executable, "-m", "edgeswarm", "run", "--nodes", "0")
    # Refused at parse time, naming the option (it named the engine's field n_nodes before the CLI checks).
    assert bad.returncode == 2 and "argument --nodes: 0 is out of range" in bad.stderr


def test_the_version_is_written_once() -> None:
    # The line CMakeLists.txt reads, too.
    declared = re.search(
        r'^version = "([0-9.]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
    ).group(1)
    assert es.__version__ == declared
    assert _run(sys.executable, "-m", "edgeswarm", "--version").stdout.strip() == f"edgeswarm {declared}"
    # CMake and the package read pyproject.toml; neither file spells the number out.
    for path in ("CMakeLists.txt", "python/edgeswarm/__init__.py"):
        assert declared not in (ROOT / path).read_text(), path
