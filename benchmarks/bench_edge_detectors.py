"""The edge runtime's per-device detectors on the fleet's labelled faults, before and after.

Runs each detector configuration once per device of the service's fleet (seed 0, 50 devices,
one reading per 10 device-seconds, Fleet default faults and wear) over ``--days`` device-days
and scores it against the injected-fault labels in two ways, side by side:

* per sample, as the dashboard's ML panel counts them (a flagged sample with a fault label is
  a true positive); overall precision and recall, and recall per fault kind;
* per fault window (a maximal run of one fault label on one device): a window is detected
  when a flag falls inside it or within ``GRACE`` samples after its end (a stuck or drifting
  sensor shows a jump only when it recovers); event precision is the share of flags inside
  some window (plus grace), and false alarms are the other flags per device-day. "chance
  event recall" is what flags at the same rate, placed at random, would get: a detector that
  flags often hits the long stuck and drift windows by luck.

"before" is the runtime's previous models (EWMA |z| > 3, MAD |z| > 3 over 51, Half-Space
Trees); "after" is the current ``edgeswarm.ml.registry.EDGE_DETECTORS`` (with StuckSensor
and DriftCusum); "considered" are alternatives that were not taken. DriftCusum scores nothing
for its first two device-days (its baseline is the same time one and two days before), so its
row is also given over the windows that start after that ("drift, day 3+"). Writes
``benchmarks/results/edge_detectors.json`` and prints a table::

    .venv/bin/python benchmarks/bench_edge_detectors.py [--days 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import edgeswarm as es
import numpy as np
from edgeswarm import ml
from edgeswarm.fleet.runtime import detector_seed
from edgeswarm.ml.registry import DETECTORS, EDGE_DETECTORS

KINDS = ("spike", "stuck", "drift")  # dropout, failure and empty batteries are NaN: not scored
GRACE = 6  # samples (one device-minute) after a window in which a flag still counts
SAMPLE_S = 10.0

#: The runtime's earlier models: the registry's "ewma" and two configurations that are no longer
#: in the registry, named here by what differs from the registry's defaults.
BEFORE: dict[str, Callable[[int], Any]] = {
    "ewma": DETECTORS["ewma"].create,
    "mad_window_51": lambda _seed: ml.RobustMad(window=51, threshold=3.0, warmup=30.0),
    "hst_10_trees_depth_6": lambda seed: ml.HalfSpaceTrees(
        dim=1, n_trees=10, depth=6, window=100, warmup=100.0, seed=seed
    ),
}
#: Alternatives looked at for "after": LikelihoodAlarm with its range break, and its NAB base.
CONSIDERED: dict[str, Callable[[int], Any]] = {
    name: DETECTORS[name].create for name in ("ewma_alarm", "rarity_alarm", "rarity_alarm_no_range_break")
}


def windows(labels: np.ndarray) -> list[tuple[str, int, int]]:
    """(fault kind, start, end) of each maximal run of one non-zero label."""
    change = np.flatnonzero(np.diff(labels.astype(np.int16), prepend=0, append=0))
    out = []
    for start, end in itertools.pairwise(change):
        if labels[start]:
            out.append((es.fleet.FAULT_LABELS[labels[start]], int(start), int(end)))
    return out


def ratio(num: float, den: float) -> float | None:
    return float(num) / den if den else None


def evaluate(
    factory: Callable[[int], Any], readings: es.fleet.Readings, days: float, skip: int = 0
) -> dict[str, Any]:
    """Scores every sample; with ``skip`` > 0 only samples from ``skip`` on count (the
    detector still sees the ones before), and ``days`` must be the days after ``skip``."""
    values, labels = readings.values, readings.labels
    n = values.shape[0]
    flags = np.zeros(values.shape, bool)
    valid = np.zeros(values.shape, bool)
    started = time.perf_counter()
    for row in range(n):
        scores, _ = factory(detector_seed(0, row)).score(values[row])
        valid[row] = np.isfinite(scores)
        flags[row] = valid[row] & (scores > 0.5)
    seconds = time.perf_counter() - started
    if skip:
        labels, flags, valid = labels[:, skip:], flags[:, skip:], valid[:, skip:]
    truth = (labels != 0) & valid
    tp, fp, fn = (flags & truth).sum(), (flags & ~truth).sum(), (~flags & truth).sum()
    near = np.zeros(labels.shape, bool)
    events = {k: [0, 0] for k in KINDS}  # detected, total
    rate = flags.sum() / max(valid.sum(), 1)  # flags per scored sample
    chance = []  # per window: P(a flag at that rate, placed at random, lands in it)
    for row in range(n):
        for kind, start, end in windows(labels[row]):
            if kind not in KINDS:
                continue
            near[row, start : end + GRACE] = True
            events[kind][0] += bool(flags[row, start : end + GRACE].any())
            events[kind][1] += 1
            chance.append(1.0 - (1.0 - rate) ** (end - start + GRACE))
    per_kind = {}
    for kind in KINDS:
        mask = (labels == es.fleet.FAULT_LABELS.index(kind)) & valid
        per_kind[kind] = {
            "samples": int(mask.sum()),
            "sample_recall": ratio((flags & mask).sum(), mask.sum()),
            "windows": events[kind][1],
            "windows_detected": events[kind][0],
            "event_recall": ratio(*events[kind]),
        }
    detected = sum(e[0] for e in events.values())
    total = sum(e[1] for e in events.values())
    return {
        "flags": int(flags.sum()),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "event_precision": ratio((flags & near).sum(), flags.sum()),
        "event_recall": ratio(detected, total),
        "chance_event_recall": float(np.mean(chance)) if chance else None,
        "false_alarms_per_device_day": float((flags & ~near).sum() / (n * days)),
        "false_alarms_first_day_share": ratio(
            (flags & ~near)[:, : round(86400 / SAMPLE_S)].sum(), (flags & ~near).sum()
        ),
        "by_kind": per_kind,
        "seconds": seconds,
    }


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=3.0, help="device-days of readings (default 3)")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "edge_detectors.json")
    args = parser.parse_args()
    fleet = es.fleet.Fleet(args.devices, seed=0, report_interval_s=SAMPLE_S)
    readings = fleet.readings(round(args.days * 86400 / SAMPLE_S), dt_s=SAMPLE_S)
    results: dict[str, dict[str, Any]] = {"before": {}, "after": {}, "considered": {}}
    for name, factory in BEFORE.items():
        results["before"][name] = evaluate(factory, readings, args.days)
    for name in EDGE_DETECTORS:
        results["after"][name] = evaluate(DETECTORS[name].create, readings, args.days)
    two_days = round(2 * 86400 / SAMPLE_S)
    if readings.values.shape[1] > two_days:
        drift_after = evaluate(DETECTORS["drift_cusum"].create, readings, args.days - 2.0, skip=two_days)
        results["after"]["drift_cusum, day 3+"] = drift_after
    for name, factory in CONSIDERED.items():
        results["considered"][name] = evaluate(factory, readings, args.days)
    head = "| set | model | precision | recall | event precision | event recall | chance event recall |"
    head += " false alarms / device-day | share on day 1 |"
    head += " spike: sample recall, windows | stuck | drift |"
    print(head)
    print("|" + "---|" * 12)
    for which, models in results.items():
        for name, r in models.items():
            kinds = [
                f"{fmt(k['sample_recall'])}, {k['windows_detected']}/{k['windows']}"
                for k in r["by_kind"].values()
            ]
            print(
                f"| {which} | {name} | {fmt(r['precision'])} | {fmt(r['recall'])} | {fmt(r['event_precision'])}"
                f" | {fmt(r['event_recall'])} | {fmt(r['chance_event_recall'])}"
                f" | {r['false_alarms_per_device_day']:.2f} | {fmt(r['false_alarms_first_day_share'])} | "
                + " | ".join(kinds)
                + " |"
            )
    meta = {
        "devices": args.devices,
        "days": args.days,
        "sample_s": SAMPLE_S,
        "seed": 0,
        "grace_samples": GRACE,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"setup": meta, **results}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
