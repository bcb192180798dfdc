"""Checked argument types for the `edgeswarm` command line: ranges and paths, refused at parse time.

Each function here is an argparse ``type=``: it turns the text of one option into its value or raises
ArgumentTypeError, so a bad value stops the command before any work with usage and one line naming the
option, the value and what is allowed (``edgeswarm run: error: argument --epochs: -3 is out of range;
allowed integers >= 1``).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# The first 16 bytes of every SQLite 3 database file (https://sqlite.org/fileformat.html).
SQLITE_HEADER = b"SQLite format 3\x00"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.10g}"


def _bounds_text(low: float | None, high: float | None, *, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f"[{_number(low)}, {_number(high)}{')' if high_open else ']'}"
    if low is not None:
        return f">= {_number(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_number(high)}"
    return "of any size"


def int_in(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An integer in [low, high] (either bound may be None: unbounded on that side)."""

    def parse(text: str) -> int:
        allowed = f"allowed integers {_bounds_text(low, high)}"
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; {allowed}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is out of range; {allowed}")
        return value

    return parse


def real_in(
    low: float | None = None, high: float | None = None, *, high_open: bool = False
) -> Callable[[str], float]:
    """A finite real in [low, high] (or [low, high) with `high_open`); NaN and infinities are refused."""

    def parse(text: str) -> float:
        allowed = f"allowed finite numbers {_bounds_text(low, high, high_open=high_open)}"
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; {allowed}") from None
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or (low is not None and value < low) or too_high:
            raise argparse.ArgumentTypeError(f"{text} is out of range; {allowed}")
        return value

    return parse


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port)."""
    return int_in(0, 65535)(text)


def _writable_target(text: str, what: str) -> Path:
    """`text` as a file path that can be created or overwritten: not a folder, in a writable folder."""
    path = Path(text)
    if text == "" or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; allowed a {what} path")
    parent = path.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {str(parent)!r} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not writable")
    # os.access trusts the mode bits, which root ignores, and knows nothing of /proc, /sys or a
    # read-only mount: open the file for real (an existing one without truncating it).
    existed = path.exists()
    try:
        with path.open("r+b" if existed else "xb"):
            pass
        if not existed:
            path.unlink()
    except OSError as error:
        action = "opened for writing" if existed else "created"
        raise argparse.ArgumentTypeError(f"{text!r} cannot be {action}: {error.strerror}") from None
    # SQLite writes its journal beside the database; a folder that takes no new file (/proc) is no
    # place for output either.
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the folder {str(parent)!r} takes no new file: {error.strerror}"
        ) from None
    return path


def output_file(text: str) -> str:
    """A file to write results to (--json): checked before the run, so a long run is not lost at its end."""
    return str(_writable_target(text, "file"))


def sqlite_file(text: str) -> str:
    """An SQLite database to open read-write: new, empty, or an SQLite 3 database, in a writable folder
    (SQLite writes its journal beside the database)."""
    path = _writable_target(text, "database file")
    if path.exists():
        if not path.is_file():
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a regular file; allowed an SQLite database file"
            )
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an SQLite database; "
                "allowed a new file, an empty one or an SQLite 3 database"
            )
    return str(path)


def existing_dir(text: str) -> str:
    """A folder that exists (the command that reads it checks its files before it starts)."""
    if not Path(text).is_dir():
        what = "is not a folder" if Path(text).exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text!r} {what}; allowed an existing data folder")
    return text


def latency_ms(text: str) -> object:
    """An injected latency model in milliseconds (edgeswarm.mqtt.faults.parse_latency spellings)."""
    from edgeswarm.mqtt.faults import parse_latency

    try:
        return parse_latency(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).partition(": ")[2] or str(error)) from None


def duration_s(text: str) -> float:
    """A duration such as 30s, 20m, 500ms or 1.5h, in seconds (parse_duration)."""
    from edgeswarm.mqtt.faults import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).partition(": ")[2] or str(error)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; allowed a duration > 0")
    return value


def latency_spelling(text: str) -> str:
    """A latency distribution as :func:`latency_ms` checks it, kept as its text (an experiment's
    config records what was asked)."""
    latency_ms(text)
    return text


def int_list(low: int, high: int | None = None) -> Callable[[str], list[int]]:
    """A comma-separated list of integers in [low, high] (``10,50,100``), at least one."""
    one = int_in(low, high)

    def parse(text: str) -> list[int]:
        parts = text.split(",")
        if not all(part.strip() for part in parts):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a list; allowed integers {_bounds_text(low, high)} separated by commas"
            )
        return [one(part.strip()) for part in parts]

    return parse


def output_folder(text: str) -> str:
    """A folder to write results into: an existing writable folder, or one that can be created."""
    from edgeswarm.mqtt.experiment import check_out_folder

    try:
        return check_out_folder(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("out: ")) from None
