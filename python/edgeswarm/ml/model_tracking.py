"""Model performance tracking per device and model.

A :class:`ModelTracker` keeps, for each (device id, model name), what the model
did on that device: batch calls, samples given, samples scored, skipped samples,
inference time, anomalies flagged, the last score and confidence, and — where
labels are given — the confusion counts and accuracy, precision, recall and F1.

Definitions (one meaning each):

* ``samples``: samples given; ``inferences``: samples that got a score (finite);
  ``invalid``: samples the model skipped (NaN score, e.g. a NaN reading).
* ``anomalies``: scored samples with ``score > threshold`` (default 0.5, the
  decision boundary of the ``edgeswarm.ml`` detectors).
* ``total_ns``: wall-clock nanoseconds of the batch calls, measured with
  ``time.perf_counter_ns`` around each call by :meth:`ModelTracker.track` (or
  given to :meth:`ModelTracker.record`); ``mean_ns_per_sample = total_ns / samples``.
* ``last_score`` / ``last_confidence``: those of the last scored sample.
* Labels (True = anomaly) count only on scored samples: ``tp`` flagged and
  labelled, ``fp`` flagged not labelled, ``tn`` neither, ``fn`` labelled not
  flagged; ``labelled = tp + fp + tn + fn``. ``accuracy = (tp + tn) / labelled``,
  ``precision = tp / (tp + fp)``, ``recall = tp / (tp + fn)``,
  ``f1 = 2 tp / (2 tp + fp + fn)``; each is None when its denominator is 0.

Reports are JSON-ready: plain ints, floats, strings and None.
"""

from __future__ import annotations

import numbers
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from edgeswarm._validate import require_float

__all__ = ["COLUMNS", "ModelStats", "ModelTracker", "Scorer"]

DeviceId = int | str


class Scorer(Protocol):
    """Anything with ``score(x) -> (scores, confidence)``: the ``edgeswarm.ml`` detectors, ``quality.ControlChart``."""

    def score(self, x: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]: ...


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass
class ModelStats:
    """Running counters of one model on one device (see the module docstring for definitions)."""

    device_id: DeviceId
    model: str
    calls: int = 0
    samples: int = 0
    inferences: int = 0
    invalid: int = 0
    anomalies: int = 0
    total_ns: int = 0
    last_score: float | None = None
    last_confidence: float | None = None
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    @property
    def labelled(self) -> int:
        """Scored samples that came with a label."""
        return self.tp + self.fp + self.tn + self.fn

    def to_dict(self) -> dict[str, Any]:
        """The counters and derived metrics as a JSON-ready dict (keys in :data:`COLUMNS` order)."""
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        return {
            "device_id": self.device_id,
            "model": self.model,
            "calls": self.calls,
            "samples": self.samples,
            "inferences": self.inferences,
            "invalid": self.invalid,
            "anomalies": self.anomalies,
            "anomaly_rate": _ratio(self.anomalies, self.inferences),
            "total_ns": self.total_ns,
            "mean_ns_per_sample": _ratio(self.total_ns, self.samples),
            "last_score": self.last_score,
            "last_confidence": self.last_confidence,
            "labelled": self.labelled,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
            "accuracy": _ratio(tp + tn, self.labelled),
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }


COLUMNS = tuple(ModelStats(0, "").to_dict())
"""Keys of a report entry and columns of :meth:`ModelTracker.frame`."""


def _device(device_id: object) -> DeviceId:
    if isinstance(device_id, bool) or not isinstance(device_id, (numbers.Integral, str)):
        raise ValueError(f"device_id: expected an int or a str, got {device_id!r}")
    return device_id if isinstance(device_id, str) else int(device_id)


def _model(model: object) -> str:
    if not isinstance(model, str) or not model:
        raise ValueError(f"model: expected a non-empty str, got {model!r}")
    return model


def _labels(labels: npt.ArrayLike, n: int) -> np.ndarray:
    a = np.asarray(labels)
    if a.shape != (n,):
        raise ValueError(f"labels: shape {a.shape} does not match the {n} samples; expected ({n},)")
    if a.dtype == np.bool_:
        return a
    if a.dtype.kind not in "iuf" or not np.all((a == 0) | (a == 1)):
        raise ValueError("labels: expected booleans or 0/1 values (True = anomaly)")
    return a == 1


class ModelTracker:
    """Per (device id, model name) performance counters; thread-safe.

    ``threshold``: a sample is flagged as an anomaly when its score is above it
    (default 0.5, the decision boundary of the ``edgeswarm.ml`` detectors).
    """

    def __init__(self, *, threshold: float = 0.5) -> None:
        self._threshold = require_float("threshold", threshold)
        self._stats: dict[tuple[DeviceId, str], ModelStats] = {}
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        """Scores above this are anomalies."""
        return self._threshold

    def track(
        self,
        device_id: DeviceId,
        detector: Scorer,
        x: npt.ArrayLike,
        *,
        model: str | None = None,
        labels: npt.ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores the batch ``x`` with ``detector`` (its state continues), records it, returns (scores, confidence).

        ``model`` defaults to the detector's class name; the time recorded is
        ``time.perf_counter_ns`` around the ``detector.score(x)`` call alone.
        """
        name = _model(type(detector).__name__ if model is None else model)
        device = _device(device_id)
        start = time.perf_counter_ns()
        scores, confidence = detector.score(x)
        elapsed = time.perf_counter_ns() - start
        self.record(device, name, scores, confidence, elapsed_ns=elapsed, labels=labels)
        return scores, confidence

    def record(
        self,
        device_id: DeviceId,
        model: str,
        scores: npt.ArrayLike,
        confidence: npt.ArrayLike,
        *,
        elapsed_ns: int,
        labels: npt.ArrayLike | None = None,
    ) -> None:
        """Adds one batch call's results: scores and confidence of its samples, its time, optional labels."""
        device, name = _device(device_id), _model(model)
        s = np.asarray(scores, dtype=np.float64)
        c = np.asarray(confidence, dtype=np.float64)
        if s.ndim != 1:
            raise ValueError(f"scores: expected a 1-D array, got shape {s.shape}")
        if c.shape != s.shape:
            raise ValueError(f"confidence: shape {c.shape} does not match scores {s.shape}")
        if isinstance(elapsed_ns, bool) or not isinstance(elapsed_ns, numbers.Integral) or elapsed_ns < 0:
            raise ValueError(f"elapsed_ns: {elapsed_ns!r} is not allowed; expected an int >= 0")
        scored = ~np.isnan(s)
        flagged = scored & (s > self._threshold)
        last = np.flatnonzero(scored)
        counts = {}
        if labels is not None:
            y = _labels(labels, len(s))
            counts = {
                "tp": int(np.count_nonzero(flagged & y)),
                "fp": int(np.count_nonzero(flagged & ~y)),
                "tn": int(np.count_nonzero(scored & ~flagged & ~y)),
                "fn": int(np.count_nonzero(scored & ~flagged & y)),
            }
        with self._lock:
            st = self._stats.setdefault((device, name), ModelStats(device, name))
            st.calls += 1
            st.samples += len(s)
            st.inferences += int(np.count_nonzero(scored))
            st.invalid += len(s) - int(np.count_nonzero(scored))
            st.anomalies += int(np.count_nonzero(flagged))
            st.total_ns += int(elapsed_ns)
            if len(last):
                st.last_score = float(s[last[-1]])
                st.last_confidence = float(c[last[-1]])
            for key, value in counts.items():
                setattr(st, key, getattr(st, key) + value)

    def devices(self) -> list[DeviceId]:
        """Device ids with at least one record, sorted (ints before strings)."""
        with self._lock:
            ids = {d for d, _ in self._stats}
        return sorted(ids, key=lambda d: (isinstance(d, str), d))

    def report(self, device_id: DeviceId) -> list[dict[str, Any]]:
        """One JSON-ready dict per model recorded on ``device_id`` (by model name); [] for an unknown device."""
        device = _device(device_id)
        with self._lock:
            rows = [st.to_dict() for (d, _), st in self._stats.items() if d == device]
        return sorted(rows, key=lambda r: r["model"])

    def frame(self) -> pd.DataFrame:
        """Every (device, model) as one row with the :data:`COLUMNS`, sorted by device then model."""
        rows = [r for d in self.devices() for r in self.report(d)]
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def reset(self) -> None:
        """Forgets every record."""
        with self._lock:
            self._stats.clear()
