"""Generates the type stub of the compiled module, `_core.pyi`, and checks it for drift.

python -m edgeswarm._stubs --write   # regenerate python/edgeswarm/_core.pyi
python -m edgeswarm._stubs --check   # exit 1 when the committed stub differs
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

STUB_PATH = Path(__file__).with_name("_core.pyi")


def generate() -> str:
    """Returns the stub text pybind11-stubgen produces for edgeswarm._core."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pybind11_stubgen",
                "edgeswarm._core",
                "-o",
                out,
                "--numpy-array-use-type-var",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return (Path(out) / "edgeswarm" / "_core.pyi").read_text(encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = generate()
    if args.write:
        STUB_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {STUB_PATH}")
        return 0
    if not STUB_PATH.exists() or STUB_PATH.read_text(encoding="utf-8") != text:
        print(f"{STUB_PATH} is out of date: run `make stubs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
