"""Per device and model performance of streaming detectors: counts, inference time, accuracy.

The service's edge runtime records each tick's batched detector calls here, one
:meth:`ModelTracker.record` per model over every device: how many samples were scored
(NaN and infinite readings are counted apart, never scored), how long each device's call took
(``time.perf_counter_ns`` around the call, reported per sample), how many samples were
flagged (score >= threshold) and, where the fleet labelled the readings with the faults it
injected, the confusion counts and the accuracy, precision, recall and F1 they give (None
when undefined, e.g. precision before anything was flagged).

This is a small tracker of the service's own; a general ``edgeswarm.model_tracking`` module
can replace it as long as it offers ``add_devices``, ``record``, ``rows`` and ``summary``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ModelTracker", "rates"]

_COUNTS = ("calls", "inferences", "invalid", "elapsed_ns", "anomalies", "labelled", "tp", "fp", "tn", "fn")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den > 0 else None


def rates(tp: int, fp: int, tn: int, fn: int) -> dict[str, float | None]:
    """Accuracy, precision, recall and F1 from confusion counts; None where the denominator is 0."""
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    if precision is None or recall is None:
        f1 = None
    elif precision + recall == 0.0:
        f1 = 0.0  # both defined and both zero: nothing right, a true zero
    else:
        f1 = 2.0 * precision * recall / (precision + recall)
    return {
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


class ModelTracker:
    """Counters per (device, model) for ``models``; a sample is flagged when its score is
    >= ``threshold``. Devices are rows added by :meth:`add_devices`."""

    def __init__(self, models: Sequence[str], *, threshold: float = 0.5) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold: {threshold} is out of range; allowed 0 <= threshold <= 1")
        if not models or len(set(models)) != len(models):
            raise ValueError(f"models: {list(models)!r}; allowed a non-empty list of distinct names")
        self.threshold = float(threshold)
        self.models = tuple(models)
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._counts = {m: {c: np.zeros(0, np.int64) for c in _COUNTS} for m in self.models}
        self._last = {m: np.zeros((0, 2)) for m in self.models}  # last finite score, its confidence

    def add_devices(self, ids: Sequence[str]) -> None:
        """Appends devices (rows in the order given) with zero counters."""
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
        truth: np.ndarray | None = None,
    ) -> None:
        """Adds one call per device: ``scores`` and ``confidence`` (n_devices, samples) as the
        detectors returned them, ``elapsed_ns`` (n_devices,) the time of each call, ``truth``
        (bool, like ``scores``) True where the reading carries an injected fault."""
        if model not in self._counts:
            raise ValueError(f"model: {model!r} is not one of {', '.join(self.models)}")
        n = len(self._ids)
        if scores.ndim != 2 or scores.shape[0] != n or confidence.shape != scores.shape:
            raise ValueError(f"scores: expected shape ({n}, samples) like confidence, got {scores.shape}")
        c = self._counts[model]
        valid = np.isfinite(scores)
        flagged = valid & (scores >= self.threshold)
        n_valid = valid.sum(axis=1)
        c["calls"] += 1
        c["inferences"] += n_valid
        c["invalid"] += scores.shape[1] - n_valid
        c["elapsed_ns"] += np.asarray(elapsed_ns, np.int64)
        c["anomalies"] += flagged.sum(axis=1)
        if scores.shape[1]:
            rows = np.flatnonzero(n_valid)
            last = scores.shape[1] - 1 - np.argmax(valid[rows, ::-1], axis=1)
            self._last[model][rows] = np.column_stack([scores[rows, last], confidence[rows, last]])
        if truth is not None:
            if truth.shape != scores.shape:
                raise ValueError(f"truth: expected shape {scores.shape}, got {truth.shape}")
            positive = truth & valid
            c["labelled"] += n_valid
            c["tp"] += (flagged & positive).sum(axis=1)
            c["fp"] += (flagged & ~positive).sum(axis=1)
            c["fn"] += (~flagged & positive).sum(axis=1)
            c["tn"] += (valid & ~flagged & ~positive).sum(axis=1)

    def rows(self, device: str) -> list[dict[str, Any]]:
        """One JSON-ready dict per model for ``device`` (ValueError for an unknown device)."""
        row = self._row.get(device)
        if row is None:
            raise ValueError(f"device: {device!r} is not tracked")
        out = []
        for m in self.models:
            counts = {c: int(self._counts[m][c][row]) for c in _COUNTS}
            score, confidence = self._last[m][row]
            out.append(
                {
                    "device_id": device,
                    **self._row_of(m, counts),
                    "last_score": None if np.isnan(score) else float(score),
                    "last_confidence": None if np.isnan(confidence) else float(confidence),
                }
            )
        return out

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per model, the counters summed over devices and the rates of the sums."""
        return {
            m: {
                "devices": len(self._ids),
                **self._row_of(m, {c: int(self._counts[m][c].sum()) for c in _COUNTS}),
            }
            for m in self.models
        }

    def _row_of(self, model: str, c: dict[str, int]) -> dict[str, Any]:
        samples = c["inferences"] + c["invalid"]
        return {
            "model": model,
            "calls": c["calls"],
            "inferences": c["inferences"],
            "invalid": c["invalid"],
            "inference_ns_per_sample": c["elapsed_ns"] / samples if samples else None,
            "anomalies": c["anomalies"],
            "anomaly_rate": _ratio(c["anomalies"], c["inferences"]),
            "threshold": self.threshold,
            "labelled": c["labelled"],
            "tp": c["tp"],
            "fp": c["fp"],
            "tn": c["tn"],
            "fn": c["fn"],
            **rates(c["tp"], c["fp"], c["tn"], c["fn"]),
        }
