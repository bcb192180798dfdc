"""Model performance tracking: counts against NumPy, undefined metrics, several devices and models, bad input."""

from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest
from edgeswarm import ml
from edgeswarm.ml import quality
from edgeswarm.ml.model_tracking import COLUMNS, ModelTracker


def labelled_series(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Seeded noise with 30 labelled spikes of 4 to 9 sigma (some too small to catch) and three NaN readings."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    where = rng.choice(np.arange(300, n), size=30, replace=False)
    x[where] += rng.uniform(4, 9, size=30) * rng.choice([-1.0, 1.0], size=30)
    labels = np.zeros(n, dtype=bool)
    labels[where] = True
    x[[50, n // 3, n - 1]] = np.nan
    return x, labels


def confusion(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> dict[str, int]:
    scored = ~np.isnan(scores)
    flagged = scored & (scores > threshold)
    return {
        "tp": int(np.sum(flagged & labels)),
        "fp": int(np.sum(flagged & ~labels)),
        "tn": int(np.sum(scored & ~flagged & ~labels)),
        "fn": int(np.sum(scored & ~flagged & labels)),
    }


def test_counts_and_metrics_match_numpy_exactly() -> None:
    x, labels = labelled_series(1)
    tracker = ModelTracker()
    det = ml.EwmaZScore()
    cuts = [0, 7, 1000, 1001, 2500, len(x)]
    parts = [
        tracker.track(3, det, x[a:b], model="ewma", labels=labels[a:b]) for a, b in itertools.pairwise(cuts)
    ]
    scores = np.concatenate([p[0] for p in parts])
    confidence = np.concatenate([p[1] for p in parts])
    # The tracker hands back the detector's own scores: one fresh detector over the whole series agrees.
    np.testing.assert_array_equal(scores, ml.EwmaZScore().score(x)[0])

    (row,) = tracker.report(3)
    want = confusion(scores, labels)
    assert {k: row[k] for k in ("tp", "fp", "tn", "fn")} == want
    assert want["tp"] > 15 and want["fn"] > 0 and want["fp"] > 0  # the data exercise every cell
    tp, fp, tn, fn = want.values()
    assert row["labelled"] == len(x) - 3
    assert row["accuracy"] == (tp + tn) / (tp + fp + tn + fn)
    assert row["precision"] == tp / (tp + fp)
    assert row["recall"] == tp / (tp + fn)
    assert row["f1"] == 2 * tp / (2 * tp + fp + fn)
    assert row["calls"] == 5 and row["samples"] == len(x)
    assert row["inferences"] == len(x) - 3 and row["invalid"] == 3
    assert row["anomalies"] == int(np.sum(scores > 0.5))
    assert row["anomaly_rate"] == row["anomalies"] / row["inferences"]
    last = np.flatnonzero(~np.isnan(scores))[-1]  # the last reading is NaN: the one before counts
    assert row["last_score"] == scores[last] and row["last_confidence"] == confidence[last]
    assert isinstance(row["total_ns"], int) and row["total_ns"] > 0
    assert row["mean_ns_per_sample"] == row["total_ns"] / len(x)
    assert list(row) == list(COLUMNS)
    json.dumps(row, allow_nan=False)  # JSON-ready: no NaN, no NumPy scalars


def test_a_custom_threshold_changes_what_counts_as_an_anomaly() -> None:
    x, labels = labelled_series(2)
    tracker = ModelTracker(threshold=0.9)
    scores, _ = tracker.track("dev-a", ml.RobustMad(), x, labels=labels)
    (row,) = tracker.report("dev-a")
    assert row["model"] == "RobustMad"  # the class name by default
    assert {k: row[k] for k in ("tp", "fp", "tn", "fn")} == confusion(scores, labels, 0.9)
    assert row["anomalies"] == int(np.sum(scores > 0.9)) < int(np.sum(scores > 0.5))


def test_undefined_metrics_are_none_never_a_division_error() -> None:
    tracker = ModelTracker()
    # No labels at all.
    tracker.record(1, "a", [0.1, 0.2], [0.0, 0.0], elapsed_ns=10)
    # Labels, but nothing flagged and nothing labelled: precision, recall, F1 undefined.
    tracker.record(1, "b", [0.1, 0.2], [0.5, 0.5], elapsed_ns=10, labels=[False, False])
    # Only skipped samples: no inference, no last score.
    tracker.record(1, "c", [np.nan], [0.0], elapsed_ns=0, labels=[True])
    a, b, c = tracker.report(1)
    assert a["accuracy"] is a["precision"] is a["recall"] is a["f1"] is None
    assert a["labelled"] == 0 and a["anomaly_rate"] == 0.0
    assert b["accuracy"] == 1.0 and b["tn"] == 2
    assert b["precision"] is b["recall"] is b["f1"] is None
    assert c["inferences"] == 0 and c["invalid"] == 1 and c["labelled"] == 0
    assert c["last_score"] is None and c["anomaly_rate"] is None and c["mean_ns_per_sample"] == 0.0
    json.dumps([a, b, c], allow_nan=False)


def test_records_add_up_exactly() -> None:
    tracker = ModelTracker()
    tracker.record(7, "m", [0.9, 0.1, 0.6], [0.8, 0.8, 0.2], elapsed_ns=300, labels=[1, 0, 0])
    tracker.record(7, "m", [0.2, 0.7], [0.6, 0.4], elapsed_ns=100, labels=np.array([1, 1]))
    (row,) = tracker.report(7)
    assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (2, 1, 1, 1)
    assert row["total_ns"] == 400 and row["mean_ns_per_sample"] == 80.0
    assert row["last_score"] == 0.7 and row["last_confidence"] == 0.4
    assert row["precision"] == 2 / 3 and row["recall"] == 2 / 3 and row["accuracy"] == 3 / 5


def test_devices_models_report_and_frame() -> None:
    x, labels = labelled_series(3, n=800)
    tracker = ModelTracker()
    for device in (2, 1):
        tracker.track(device, ml.EwmaZScore(), x, model="ewma", labels=labels)
        tracker.track(device, ml.RobustMad(), x, model="mad")
    multi = np.random.default_rng(4).normal(size=(500, 3))
    tracker.track(1, ml.Mahalanobis(dim=3), multi, model="mahalanobis")
    chart = quality.ControlChart(mean=0.0, sigma=1.0)
    tracker.track(1, chart, x, model="control_chart", labels=labels)

    assert tracker.devices() == [1, 2]
    assert [r["model"] for r in tracker.report(1)] == ["control_chart", "ewma", "mad", "mahalanobis"]
    assert tracker.report(99) == []
    by_model = {r["model"]: r for r in tracker.report(1)}
    assert by_model["mahalanobis"]["samples"] == 500  # rows, not values
    assert by_model["control_chart"]["anomalies"] == chart.stats["defects"]
    assert by_model["mad"]["labelled"] == 0

    frame = tracker.frame()
    assert list(frame.columns) == list(COLUMNS)
    assert list(zip(frame["device_id"], frame["model"], strict=True)) == [
        (1, "control_chart"),
        (1, "ewma"),
        (1, "mad"),
        (1, "mahalanobis"),
        (2, "ewma"),
        (2, "mad"),
    ]
    # The same detector on the same data on two devices: the same counts.
    ewma = frame[frame["model"] == "ewma"]
    assert ewma["tp"].nunique() == 1 and ewma["anomalies"].nunique() == 1
    tracker.reset()
    assert tracker.devices() == [] and tracker.frame().empty


def test_concurrent_records_are_all_counted() -> None:
    tracker = ModelTracker()

    def work(device: int) -> None:
        for _ in range(200):
            tracker.record(device % 2, "m", [0.9, 0.1], [1.0, 1.0], elapsed_ns=1, labels=[True, False])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = [r for d in (0, 1) for r in tracker.report(d)]
    assert [(r["calls"], r["tp"], r["tn"], r["total_ns"]) for r in rows] == [(400, 400, 400, 400)] * 2


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda t: t.record(True, "m", [0.1], [0.1], elapsed_ns=1), "device_id"),
        (lambda t: t.record(1.5, "m", [0.1], [0.1], elapsed_ns=1), "device_id"),
        (lambda t: t.record(1, "", [0.1], [0.1], elapsed_ns=1), "model"),
        (lambda t: t.record(1, "m", [[0.1]], [[0.1]], elapsed_ns=1), "scores"),
        (lambda t: t.record(1, "m", [0.1, 0.2], [0.1], elapsed_ns=1), "confidence"),
        (lambda t: t.record(1, "m", [0.1], [0.1], elapsed_ns=-1), "elapsed_ns"),
        (lambda t: t.record(1, "m", [0.1], [0.1], elapsed_ns=1.5), "elapsed_ns"),
        (lambda t: t.record(1, "m", [0.1], [0.1], elapsed_ns=1, labels=[0, 1]), "labels"),
        (lambda t: t.record(1, "m", [0.1], [0.1], elapsed_ns=1, labels=[2]), "labels"),
        (lambda t: t.record(1, "m", [0.1], [0.1], elapsed_ns=1, labels=[np.nan]), "labels"),
        (lambda t: t.report(None), "device_id"),
        (lambda t: t.record(1, "m", [0.1], [0.1], elapsed_ns=1, kinds=[1]), "kinds"),  # no fault_labels
        (lambda t: t.record_fleet("m", [0.1], [0.1], [1], devices=[1]), "scores"),
        (lambda t: t.record_fleet("m", [[0.1]], [[0.1]], [1]), "scores"),  # no device added
        (lambda t: t.record_fleet("m", [[0.1], [0.2]], [[0.1], [0.2]], [1, 1], devices=[1, 1]), "devices"),
        (lambda t: t.record_fleet("m", [[0.1]], [[0.1]], [1, 2], devices=[1]), "elapsed_ns"),
        (lambda t: t.record_fleet("m", [[0.1]], [[0.1]], [1], devices=[1], kinds=[[0.5]]), "kinds"),
        (lambda t: t.add_devices([3, 3]), "ids"),
        (lambda _t: ModelTracker(threshold=float("nan")), "threshold"),
        (lambda _t: ModelTracker(threshold=1.5), "threshold"),
        (lambda _t: ModelTracker(models=["a", "a"]), "models"),
    ],
)
def test_bad_input_names_the_parameter(call, name: str) -> None:
    tracker = ModelTracker()
    with pytest.raises(ValueError, match=f"^{name}:"):
        call(tracker)
    assert tracker.devices() == []  # nothing half-recorded


def test_record_fleet_equals_one_record_per_device_and_counts_faults_by_kind() -> None:
    """The batched per-fleet path and the per-call path are one counter: same reports, key for key."""
    rng = np.random.default_rng(5)
    kinds_names = ("none", "spike", "stuck")
    n, steps = 4, 50
    per_call = ModelTracker(fault_labels=kinds_names)
    fleet = ModelTracker(models=["m", "unused"], fault_labels=kinds_names)
    fleet.add_devices([f"d{i}" for i in range(n)])
    assert fleet.summary()["unused"]["devices"] == 0 and fleet.report("d0") == []  # nothing recorded yet
    for call in range(3):
        scores = rng.random((n, steps))
        scores[rng.random((n, steps)) < 0.1] = np.nan
        scores[3, :] = np.nan if call == 2 else scores[3, :]  # a call without any scored sample
        confidence = rng.random((n, steps))
        kinds = rng.integers(0, 3, size=(n, steps))
        elapsed = rng.integers(0, 1000, size=n)
        fleet.record_fleet("m", scores, confidence, elapsed, labels=kinds != 0, kinds=kinds)
        for i in range(n):
            per_call.record(
                f"d{i}",
                "m",
                scores[i],
                confidence[i],
                elapsed_ns=int(elapsed[i]),
                labels=kinds[i] != 0,
                kinds=kinds[i],
            )
    for i in range(n):
        assert fleet.report(f"d{i}") == per_call.report(f"d{i}")
    summary = fleet.summary()
    assert summary["m"] == per_call.summary()["m"]
    assert summary["m"]["devices"] == n and summary["m"]["tp"] == sum(
        r["tp"] for r in fleet.frame().to_dict("records")
    )
    by_fault = summary["m"]["by_fault"]
    assert set(by_fault) == {"spike", "stuck"}
    assert sum(v["labelled"] for v in by_fault.values()) == summary["m"]["tp"] + summary["m"]["fn"]
    for v in by_fault.values():
        assert v["recall"] == v["detected"] / v["labelled"]
    # Explicit device ids: rows in any order, new devices appended.
    fleet.record_fleet("m", np.full((2, 3), 0.9), np.ones((2, 3)), [5, 5], devices=["new", "d1"])
    assert fleet.report("new")[0]["anomalies"] == 3 and fleet.n_devices == n + 1
    assert fleet.report("d1")[0]["calls"] == 4
