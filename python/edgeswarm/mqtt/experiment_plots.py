"""The three standard figures of a timed MQTT experiment, as PNG files (matplotlib, Agg canvas).

Each function takes the measured numbers and a path and writes one figure; none touches
matplotlib's global state (no pyplot, no backend switch), so they are safe in a notebook or a
server process alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["delivery_over_time", "failure_timeline", "latency_cdf", "require_matplotlib", "status_counts"]

_SIZE = (7.0, 4.0)
_DPI = 110


def require_matplotlib() -> None:
    """Raises RuntimeError saying what to install when matplotlib is missing (it is in the dev extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "the experiment's plots need matplotlib: pip install matplotlib (or edgeswarm[dev])"
        ) from None


def _figure() -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _cdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ordered = np.sort(values)
    return ordered, np.arange(1, len(ordered) + 1) / len(ordered)


def latency_cdf(measured_ms: np.ndarray, injected_ms: np.ndarray, path: Path) -> None:
    """Empirical CDFs of the end-to-end latency measured at the receiver and of the delays injected
    into the same messages (log x axis when the range spans more than a decade)."""
    figure = _figure()
    axes = figure.add_subplot()
    for values, label, style in ((measured_ms, "measured end to end", "-"), (injected_ms, "injected", "--")):
        values = np.asarray(values, float)
        if len(values):
            x, y = _cdf(values)
            axes.step(
                x, y, style, where="post", label=f"{label} (n={len(values)}, p50 {np.median(values):.1f})"
            )
    every = np.concatenate([np.asarray(measured_ms, float), np.asarray(injected_ms, float)])
    positive = every[every > 0]
    if len(positive) and positive.max() > 10 * positive.min():
        axes.set_xscale("log")
    axes.set_xlabel("latency (ms)")
    axes.set_ylabel("fraction of messages")
    axes.set_ylim(0, 1.02)
    axes.set_title("Latency CDF: measured beside injected")
    axes.grid(alpha=0.3)
    if len(every):
        axes.legend(loc="lower right")
    else:
        axes.text(0.5, 0.5, "no message received", ha="center", va="center", transform=axes.transAxes)
    figure.savefig(path)


def delivery_over_time(received_s: np.ndarray, duration_s: float, path: Path) -> None:
    """Messages received per second (unique ones), over the run and its drain."""
    received_s = np.asarray(received_s, float)
    end = max(float(received_s.max()) if len(received_s) else 0.0, duration_s)
    edges = np.arange(0.0, np.floor(end) + 2.0)
    counts, _ = np.histogram(received_s, bins=edges)
    figure = _figure()
    axes = figure.add_subplot()
    axes.step(edges[:-1], counts, where="post", label="received")
    axes.axvline(duration_s, color="grey", linestyle=":", label="end of the measured window")
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("messages received per second")
    axes.set_title(f"Delivery over time ({len(received_s)} messages)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.savefig(path)


def status_counts(events: Iterable[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the fleet's events (``t_s``, ``device``, ``event`` = the new status): the times of the
    changes and, after each, how many devices were failed and how many online."""
    status: dict[str, str] = {}
    times, failed, online = [0.0], [0], [0]
    for event in sorted(events, key=lambda e: e["t_s"]):
        if event["event"] == "start":
            continue
        status[event["device"]] = event["event"]
        values = list(status.values())
        times.append(float(event["t_s"]))
        failed.append(values.count("failed"))
        online.append(values.count("online"))
    return np.array(times), np.array(failed), np.array(online)


def failure_timeline(events: list[dict[str, Any]], devices: int, duration_s: float, path: Path) -> None:
    """Devices failed and devices online over time, from the fleet's status events."""
    times, failed, online = status_counts(events)
    end = max(float(times.max()), duration_s)
    times, failed, online = np.r_[times, end], np.r_[failed, failed[-1]], np.r_[online, online[-1]]
    figure = _figure()
    axes = figure.add_subplot()
    axes.step(times, online, where="post", label="online")
    axes.step(times, failed, where="post", color="tab:red", label="failed")
    axes.axvline(duration_s, color="grey", linestyle=":", label="end of the measured window")
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("devices")
    axes.set_ylim(0, devices * 1.05 + 0.5)
    axes.set_title(f"Failure timeline ({int(failed.max())} failed at most of {devices})")
    axes.grid(alpha=0.3)
    axes.legend(loc="center right")
    figure.savefig(path)
