"""Per device and model performance of the edge runtime's detectors, counted for all devices at once.

The same counters and definitions as :class:`edgeswarm.model_tracking.ModelTracker` (its
report rows have the same keys, see :data:`edgeswarm.model_tracking.COLUMNS`), kept in NumPy
arrays with one row per device, so that one :meth:`FleetModelTracker.record` call per model
and tick covers the whole fleet instead of one Python call per device. The tests check the
reports against :class:`edgeswarm.model_tracking.ModelTracker` fed device by device.

In short: ``samples`` given, ``inferences`` scored (finite), ``invalid`` skipped (NaN score,
e.g. a NaN reading), ``anomalies`` scored with score > threshold, ``total_ns`` measured with
``time.perf_counter_ns`` around each device's call and ``mean_ns_per_sample = total_ns /
samples``; with labels (True = injected fault) the confusion counts on scored samples and
accuracy, precision, recall and F1 = 2 tp / (2 tp + fp + fn), each None when its denominator
is 0. Given the label codes too (``kinds``), :meth:`FleetModelTracker.summary` adds each model's
recall per fault kind (``by_fault``), fleet-wide: the kinds differ a lot in what a detector can
see (a spike of 8-15 sd at once, a stuck sensor only when it recovers), so the overall recall
mostly says which kinds were frequent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edgeswarm.ml.model_tracking import COLUMNS

__all__ = ["FleetModelTracker"]

_COUNTS = ("calls", "samples", "inferences", "invalid", "anomalies", "total_ns", "tp", "fp", "tn", "fn")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


class FleetModelTracker:
    """Counters per (device, model) for ``models``; devices are rows added by :meth:`add_devices`.
    A sample is an anomaly when its score is above ``threshold``."""

    def __init__(
        self, models: Sequence[str], *, threshold: float = 0.5, fault_labels: Sequence[str] = ()
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold: {threshold} is out of range; allowed 0 <= threshold <= 1")
        if not models or len(set(models)) != len(models):
            raise ValueError(f"models: {list(models)!r}; allowed a non-empty list of distinct names")
        self.threshold = float(threshold)
        self.models = tuple(models)
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._counts = {m: {c: np.zeros(0, np.int64) for c in _COUNTS} for m in self.models}
        self._last = {m: np.zeros((0, 2)) for m in self.models}  # last scored sample: score, confidence
        #: Names of the label codes (code 0: healthy); by_fault counts per code: scored, flagged.
        self.fault_labels = tuple(fault_labels)
        self._by_fault = {m: np.zeros((len(self.fault_labels), 2), np.int64) for m in self.models}

    def add_devices(self, ids: Sequence[str]) -> None:
        """Appends the devices of ``ids`` not tracked yet (rows in that order), with zero counters."""
        fresh = [d for d in ids if d not in self._row]
        if len(set(fresh)) != len(fresh):
            raise ValueError(f"ids: {list(ids)!r} lists a device twice")
        for d in fresh:
            self._row[d] = len(self._ids)
            self._ids.append(d)
        for m in self.models:
            for c in _COUNTS:
                self._counts[m][c] = np.concatenate([self._counts[m][c], np.zeros(len(fresh), np.int64)])
            self._last[m] = np.concatenate([self._last[m], np.full((len(fresh), 2), np.nan)])

    def record(
        self,
        model: str,
        scores: np.ndarray,
        confidence: np.ndarray,
        elapsed_ns: np.ndarray,
        *,
        labels: np.ndarray | None = None,
        kinds: np.ndarray | None = None,
    ) -> None:
        """Adds one call per device: ``scores`` and ``confidence`` (n_devices, samples) as the
        detectors returned them, ``elapsed_ns`` (n_devices,) the time of each device's call,
        ``labels`` (bool, like ``scores``) True where the reading carries an injected fault,
        ``kinds`` (integer codes indexing ``fault_labels``, like ``scores``) which fault."""
        if model not in self._counts:
            raise ValueError(f"model: {model!r} is not one of {', '.join(self.models)}")
        n = len(self._ids)
        if scores.ndim != 2 or scores.shape[0] != n or confidence.shape != scores.shape:
            raise ValueError(f"scores: expected shape ({n}, samples) like confidence, got {scores.shape}")
        c = self._counts[model]
        scored = ~np.isnan(scores)
        flagged = scored & (scores > self.threshold)
        n_scored = scored.sum(axis=1)
        c["calls"] += 1
        c["samples"] += scores.shape[1]
        c["inferences"] += n_scored
        c["invalid"] += scores.shape[1] - n_scored
        c["anomalies"] += flagged.sum(axis=1)
        c["total_ns"] += np.asarray(elapsed_ns, np.int64)
        rows = np.flatnonzero(n_scored)
        if rows.size:
            last = scores.shape[1] - 1 - np.argmax(scored[rows, ::-1], axis=1)
            self._last[model][rows] = np.column_stack([scores[rows, last], confidence[rows, last]])
        if labels is not None:
            if labels.shape != scores.shape:
                raise ValueError(f"labels: expected shape {scores.shape}, got {labels.shape}")
            y = labels.astype(bool)
            c["tp"] += (flagged & y).sum(axis=1)
            c["fp"] += (flagged & ~y).sum(axis=1)
            c["tn"] += (scored & ~flagged & ~y).sum(axis=1)
            c["fn"] += (scored & ~flagged & y).sum(axis=1)
        if kinds is not None:
            if kinds.shape != scores.shape:
                raise ValueError(f"kinds: expected shape {scores.shape}, got {kinds.shape}")
            codes = kinds.astype(np.int64)
            if codes.size and not (0 <= codes.min() and codes.max() < len(self.fault_labels)):
                raise ValueError(f"kinds: codes must index fault_labels (0..{len(self.fault_labels) - 1})")
            width = len(self.fault_labels)
            self._by_fault[model][:, 0] += np.bincount(codes[scored], minlength=width)
            self._by_fault[model][:, 1] += np.bincount(codes[flagged], minlength=width)

    def report(self, device_id: str) -> list[dict[str, Any]]:
        """One JSON-ready dict per model of ``device_id`` (keys :data:`~edgeswarm.model_tracking.COLUMNS`),
        by model name like :meth:`edgeswarm.model_tracking.ModelTracker.report`; ValueError for an
        unknown device."""
        row = self._row.get(device_id)
        if row is None:
            raise ValueError(f"device_id: {device_id!r} is not tracked")
        out = []
        for m in sorted(self.models):
            score, confidence = self._last[m][row]
            out.append(
                self._entry(
                    device_id,
                    m,
                    {c: int(self._counts[m][c][row]) for c in _COUNTS},
                    None if np.isnan(score) else float(score),
                    None if np.isnan(confidence) else float(confidence),
                )
            )
        return out

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per model, the counters summed over devices and the rates of the sums (no device
        id and no last score); with ``kinds`` recorded, ``by_fault``: per fault kind that had
        a scored sample, its scored samples, those flagged and their ratio (recall)."""
        out = {}
        for m in self.models:
            entry = self._entry("", m, {c: int(self._counts[m][c].sum()) for c in _COUNTS}, None, None)
            for key in ("device_id", "last_score", "last_confidence"):
                del entry[key]
            out[m] = {"devices": len(self._ids), **entry}
            if self.fault_labels:
                out[m]["by_fault"] = {
                    name: {"labelled": int(n), "detected": int(k), "recall": _ratio(int(k), int(n))}
                    for name, (n, k) in zip(self.fault_labels[1:], self._by_fault[m][1:], strict=True)
                    if n
                }
        return out

    @staticmethod
    def _entry(
        device_id: str, model: str, c: dict[str, int], last_score: float | None, last_confidence: float | None
    ) -> dict[str, Any]:
        tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
        labelled = tp + fp + tn + fn
        entry = {
            "device_id": device_id,
            "model": model,
            "calls": c["calls"],
            "samples": c["samples"],
            "inferences": c["inferences"],
            "invalid": c["invalid"],
            "anomalies": c["anomalies"],
            "anomaly_rate": _ratio(c["anomalies"], c["inferences"]),
            "total_ns": c["total_ns"],
            "mean_ns_per_sample": _ratio(c["total_ns"], c["samples"]),
            "last_score": last_score,
            "last_confidence": last_confidence,
            "labelled": labelled,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
            "accuracy": _ratio(tp + tn, labelled),
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }
        assert tuple(entry) == COLUMNS  # the same report shape as edgeswarm.model_tracking
        return entry
