"""Model performance tracking per device and model, one call or a whole fleet at a time.

A :class:`ModelTracker` keeps, for each (device id, model name), what the model did on that
device: batch calls, samples given, samples scored, skipped samples, inference time,
anomalies flagged, the last score and confidence, and — where labels are given — the
confusion counts and accuracy, precision, recall and F1. Counters live in NumPy arrays with
one row per device, so both uses share one counting path:

* per call: :meth:`ModelTracker.track` (scores a batch with a detector and times it) or
  :meth:`ModelTracker.record` (one device's results of one call);
* per fleet: :meth:`ModelTracker.record_fleet` adds one call of every device at once from
  (devices, samples) arrays, as the edge runtime (:mod:`edgeswarm.fleet.runtime`) does once
  per model and tick instead of one Python call per device.

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
* With ``fault_labels`` (names of integer label codes; code 0 = healthy) and the codes of
  each sample (``kinds``), :meth:`ModelTracker.summary` adds each model's recall per fault
  kind (``by_fault``) over all devices: kinds differ a lot in what a detector can see (a
  spike of 8-15 sd at once, a stuck sensor only when it recovers), so the overall recall
  mostly says which kinds were frequent.

Reports are JSON-ready: plain ints, floats, strings and None.
"""

from __future__ import annotations

import numbers
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from edgeswarm._validate import require_float

__all__ = ["COLUMNS", "ModelTracker", "Scorer"]

DeviceId = int | str

#: Integer counters kept per (device, model), in column order of the count arrays.
_COUNTS = ("calls", "samples", "inferences", "invalid", "anomalies", "total_ns", "tp", "fp", "tn", "fn")
_COL = {name: j for j, name in enumerate(_COUNTS)}


class Scorer(Protocol):
    """Anything with ``score(x) -> (scores, confidence)``: the ``edgeswarm.ml`` detectors, ``quality.ControlChart``."""

    def score(self, x: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]: ...


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _entry(
    device_id: DeviceId,
    model: str,
    c: dict[str, int],
    last_score: float | None,
    last_confidence: float | None,
) -> dict[str, Any]:
    """One report row from the counters (see the module docstring for the definitions)."""
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    labelled = tp + fp + tn + fn
    return {
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


COLUMNS = tuple(_entry(0, "", dict.fromkeys(_COUNTS, 0), None, None))
"""Keys of a report entry and columns of :meth:`ModelTracker.frame`."""


def _device(device_id: object) -> DeviceId:
    if isinstance(device_id, bool) or not isinstance(device_id, (numbers.Integral, str)):
        raise ValueError(f"device_id: expected an int or a str, got {device_id!r}")
    return device_id if isinstance(device_id, str) else int(device_id)


def _model(model: object) -> str:
    if not isinstance(model, str) or not model:
        raise ValueError(f"model: expected a non-empty str, got {model!r}")
    return model


def _labels(labels: npt.ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(labels)
    if a.shape != shape:
        raise ValueError(f"labels: shape {a.shape} does not match the samples; expected {shape}")
    if a.dtype == np.bool_:
        return a
    if a.dtype.kind not in "iuf" or not np.all((a == 0) | (a == 1)):
        raise ValueError("labels: expected booleans or 0/1 values (True = anomaly)")
    return a == 1


def _elapsed(value: npt.ArrayLike, n: int) -> np.ndarray:
    a = np.asarray(value)
    if a.shape != (n,) or a.dtype.kind not in "iu" or (a < 0).any():
        raise ValueError(f"elapsed_ns: {value!r} is not allowed; expected {n} int(s) >= 0")
    return a.astype(np.int64)


@dataclass
class _Model:
    """One model's counters: a row per device (capacity grows by doubling)."""

    counts: np.ndarray  # int64 (capacity, len(_COUNTS))
    last: np.ndarray  # float64 (capacity, 2): score, confidence of the last scored sample; NaN: none
    by_fault: np.ndarray  # int64 (len(fault_labels), 2): scored, flagged per label code
    seen: np.ndarray  # bool (capacity,): rows with at least one call


class ModelTracker:
    """Per (device id, model name) performance counters; thread-safe.

    ``threshold``: a sample is flagged as an anomaly when its score is above it (0..1,
    default 0.5, the decision boundary of the ``edgeswarm.ml`` detectors). ``models``: names
    reported by :meth:`summary` even before their first record (others are added as they
    are recorded). ``fault_labels``: names of the label codes given as ``kinds`` (code 0 =
    healthy), for the recall per fault kind of :meth:`summary`.
    """

    def __init__(
        self, *, threshold: float = 0.5, models: Sequence[str] = (), fault_labels: Sequence[str] = ()
    ) -> None:
        threshold = require_float("threshold", threshold, minimum=0.0)
        if threshold > 1.0:
            raise ValueError(f"threshold: {threshold} is out of range; allowed 0 <= threshold <= 1")
        if isinstance(models, str) or len(set(models)) != len(models):
            raise ValueError(f"models: {models!r}; allowed a list of distinct names")
        if isinstance(fault_labels, str) or not all(isinstance(f, str) for f in fault_labels):
            raise ValueError(f"fault_labels: {fault_labels!r}; allowed a list of names")
        self._threshold = threshold
        self.fault_labels: tuple[str, ...] = tuple(fault_labels)
        self._ids: list[DeviceId] = []
        self._row: dict[DeviceId, int] = {}
        self._capacity = 0
        self._models: dict[str, _Model] = {}
        self._lock = threading.Lock()
        for m in models:
            self._model_counters(_model(m))

    @property
    def threshold(self) -> float:
        """Scores above this are anomalies."""
        return self._threshold

    @property
    def models(self) -> tuple[str, ...]:
        """Model names known, in the order first given or recorded."""
        with self._lock:
            return tuple(self._models)

    # ------------------------------------------------------------------ rows

    def _model_counters(self, model: str) -> _Model:
        m = self._models.get(model)
        if m is None:
            m = self._models[model] = _Model(
                np.zeros((self._capacity, len(_COUNTS)), np.int64),
                np.full((self._capacity, 2), np.nan),
                np.zeros((len(self.fault_labels), 2), np.int64),
                np.zeros(self._capacity, bool),
            )
        return m

    def _rows(self, devices: Sequence[DeviceId]) -> np.ndarray:
        """Rows of ``devices`` (checked ids), appending the new ones."""
        fresh = [d for d in dict.fromkeys(devices) if d not in self._row]
        need = len(self._ids) + len(fresh)
        if need > self._capacity:
            capacity = max(need, 2 * self._capacity, 16)
            for m in self._models.values():
                m.counts = np.concatenate(
                    [m.counts, np.zeros((capacity - self._capacity, len(_COUNTS)), np.int64)]
                )
                m.last = np.concatenate([m.last, np.full((capacity - self._capacity, 2), np.nan)])
                m.seen = np.concatenate([m.seen, np.zeros(capacity - self._capacity, bool)])
            self._capacity = capacity
        for d in fresh:
            self._row[d] = len(self._ids)
            self._ids.append(d)
        return np.fromiter((self._row[d] for d in devices), np.int64, len(devices))

    def add_devices(self, ids: Sequence[DeviceId]) -> None:
        """Tracks the devices of ``ids`` not tracked yet (rows in that order, zero counters):
        the rows :meth:`record_fleet` covers when it is given no ``devices``."""
        checked = [_device(d) for d in ids]
        if len(set(checked)) != len(checked):
            raise ValueError(f"ids: {list(ids)!r} lists a device twice")
        with self._lock:
            self._rows(checked)

    @property
    def n_devices(self) -> int:
        """Devices tracked (added or recorded)."""
        return len(self._ids)

    # ------------------------------------------------------------------ recording

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
        kinds: npt.ArrayLike | None = None,
    ) -> None:
        """Adds one batch call's results on one device: 1-D scores and confidence of its
        samples, its time, optional labels (True = anomaly) and label codes (``kinds``)."""
        device = _device(device_id)
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim != 1:
            raise ValueError(f"scores: expected a 1-D array, got shape {s.shape}")
        if isinstance(elapsed_ns, bool) or not isinstance(elapsed_ns, numbers.Integral):
            raise ValueError(f"elapsed_ns: {elapsed_ns!r} is not allowed; expected an int >= 0")
        self._add(
            [device],
            model,
            s[None, :],
            np.asarray(confidence, dtype=np.float64)[None, ...],
            [elapsed_ns],
            None if labels is None else np.asarray(labels)[None, ...],
            None if kinds is None else np.asarray(kinds)[None, ...],
        )

    def record_fleet(
        self,
        model: str,
        scores: npt.ArrayLike,
        confidence: npt.ArrayLike,
        elapsed_ns: npt.ArrayLike,
        *,
        devices: Sequence[DeviceId] | None = None,
        labels: npt.ArrayLike | None = None,
        kinds: npt.ArrayLike | None = None,
    ) -> None:
        """Adds one call per device at once: ``scores`` and ``confidence`` (devices, samples)
        as the detectors returned them, ``elapsed_ns`` (devices,) the time of each device's
        call, ``labels`` (like ``scores``) True where the sample is an anomaly, ``kinds``
        (integer codes indexing ``fault_labels``, like ``scores``) which fault. Row ``i`` is
        ``devices[i]`` (distinct ids), or by default the i-th device of :meth:`add_devices`."""
        s = np.asarray(scores, dtype=np.float64)
        n = len(self._ids) if devices is None else len(devices)
        if s.ndim != 2 or s.shape[0] != n:
            raise ValueError(f"scores: expected shape ({n}, samples), got {s.shape}")
        ids = None if devices is None else [_device(d) for d in devices]
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError(f"devices: {list(devices)!r} lists a device twice")  # type: ignore[arg-type]
        self._add(
            ids,
            model,
            s,
            np.asarray(confidence, dtype=np.float64),
            elapsed_ns,
            None if labels is None else np.asarray(labels),
            None if kinds is None else np.asarray(kinds),
        )

    def _add(
        self,
        devices: Sequence[DeviceId] | None,
        model: str,
        s: np.ndarray,
        c: np.ndarray,
        elapsed_ns: npt.ArrayLike,
        labels: np.ndarray | None,
        kinds: np.ndarray | None,
    ) -> None:
        """The one counting path: validate everything, then add under the lock (``devices``
        None: the first ``len(scores)`` tracked devices, in row order)."""
        name = _model(model)
        if c.shape != s.shape:
            raise ValueError(f"confidence: shape {c.shape} does not match scores {s.shape}")
        elapsed = _elapsed(elapsed_ns, s.shape[0])
        scored = ~np.isnan(s)
        flagged = scored & (s > self._threshold)
        n_scored = scored.sum(axis=1)
        add = np.zeros((s.shape[0], len(_COUNTS)), np.int64)
        add[:, _COL["calls"]] = 1
        add[:, _COL["samples"]] = s.shape[1]
        add[:, _COL["inferences"]] = n_scored
        add[:, _COL["invalid"]] = s.shape[1] - n_scored
        add[:, _COL["anomalies"]] = flagged.sum(axis=1)
        add[:, _COL["total_ns"]] = elapsed
        if labels is not None:
            y = _labels(labels, s.shape)
            add[:, _COL["tp"]] = (flagged & y).sum(axis=1)
            add[:, _COL["fp"]] = (flagged & ~y).sum(axis=1)
            add[:, _COL["tn"]] = (scored & ~flagged & ~y).sum(axis=1)
            add[:, _COL["fn"]] = (scored & ~flagged & y).sum(axis=1)
        fault_counts = None
        if kinds is not None:
            width = len(self.fault_labels)
            if kinds.shape != s.shape or kinds.dtype.kind not in "iu":
                raise ValueError(
                    f"kinds: expected integer codes of shape {s.shape}, got {kinds.shape} {kinds.dtype}"
                )
            codes = kinds.astype(np.int64)
            if codes.size and not (codes.min() >= 0 and codes.max() < width):
                raise ValueError(f"kinds: codes must index fault_labels (0..{width - 1})")
            fault_counts = np.column_stack(
                [np.bincount(codes[scored], minlength=width), np.bincount(codes[flagged], minlength=width)]
            )
        has_last = np.flatnonzero(n_scored)
        at = s.shape[1] - 1 - np.argmax(scored[has_last, ::-1], axis=1)
        last = np.column_stack([s[has_last, at], c[has_last, at]])
        with self._lock:
            m = self._model_counters(name)
            # No devices: every tracked device, in row order (the fleet's rows, no id lookups).
            rows = np.arange(s.shape[0]) if devices is None else self._rows(devices)
            m.counts[rows] += add
            m.last[rows[has_last]] = last
            m.seen[rows] = True
            if fault_counts is not None:
                m.by_fault += fault_counts

    # ------------------------------------------------------------------ reading

    def devices(self) -> list[DeviceId]:
        """Device ids with at least one record, sorted (ints before strings)."""
        with self._lock:
            seen = np.zeros(self._capacity, bool)
            for m in self._models.values():
                seen |= m.seen
            ids = [self._ids[r] for r in np.flatnonzero(seen).tolist()]
        return sorted(ids, key=lambda d: (isinstance(d, str), d))

    def report(self, device_id: DeviceId) -> list[dict[str, Any]]:
        """One JSON-ready dict per model recorded on ``device_id`` (by model name); [] for a
        device without records."""
        device = _device(device_id)
        with self._lock:
            row = self._row.get(device)
            if row is None:
                return []
            out = []
            for name in sorted(self._models):
                m = self._models[name]
                if not m.seen[row]:
                    continue
                score, confidence = m.last[row]
                counts = dict(zip(_COUNTS, m.counts[row].tolist(), strict=True))
                out.append(
                    _entry(
                        device,
                        name,
                        counts,
                        None if np.isnan(score) else float(score),
                        None if np.isnan(confidence) else float(confidence),
                    )
                )
            return out

    def frame(self) -> pd.DataFrame:
        """Every (device, model) as one row with the :data:`COLUMNS`, sorted by device then model."""
        rows = [r for d in self.devices() for r in self.report(d)]
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per model: ``devices`` recorded, the counters summed over them and the rates of the
        sums (no device id and no last score); with ``fault_labels``, ``by_fault``: per fault
        kind that had a scored sample, its scored samples (``labelled``), those flagged
        (``detected``) and their ratio (``recall``)."""
        out = {}
        with self._lock:
            for name, m in self._models.items():
                sums = dict(zip(_COUNTS, m.counts.sum(axis=0).tolist(), strict=True))
                entry = _entry("", name, sums, None, None)
                for key in ("device_id", "last_score", "last_confidence"):
                    del entry[key]
                out[name] = {"devices": int(m.seen.sum()), **entry}
                if self.fault_labels:
                    out[name]["by_fault"] = {
                        label: {"labelled": int(n), "detected": int(k), "recall": _ratio(int(k), int(n))}
                        for label, (n, k) in zip(self.fault_labels[1:], m.by_fault[1:].tolist(), strict=True)
                        if n
                    }
        return out

    def reset(self) -> None:
        """Forgets every record (devices and models stay known, with zero counters)."""
        with self._lock:
            for m in self._models.values():
                m.counts[:] = 0
                m.last[:] = np.nan
                m.by_fault[:] = 0
                m.seen[:] = False
