"""Fleet facade: determinism, signal statistics, faults, wear, alerts, emergencies, clustering, bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from edgeswarm import _core
from edgeswarm.fleet import (
    ALERT_TYPES,
    DEVICE_TYPES,
    FAULT_LABELS,
    SENSOR_TYPES,
    AlertRules,
    Fleet,
    cluster,
    rank_by_centroid,
)
from edgeswarm.fleet.emergency import Emergency


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_same_seed_same_bits_and_chunking_does_not_matter() -> None:
    a = Fleet(500, seed=3).readings(steps=200, dt_s=30)
    b = Fleet(500, seed=3).readings(steps=200, dt_s=30)
    c = Fleet(500, seed=4).readings(steps=200, dt_s=30)
    assert _digest(a.values, a.labels) == _digest(b.values, b.labels)
    assert _digest(a.values) != _digest(c.values)
    first = Fleet(500, seed=3).readings(steps=80, dt_s=30)
    rest = Fleet(500, seed=3).readings(steps=120, dt_s=30, t0_s=80 * 30)
    joined = np.concatenate([first.values, rest.values], axis=1)
    assert _digest(joined) == _digest(a.values)


def test_devices_frame_has_the_documented_columns() -> None:
    fleet = Fleet(2000, seed=1, device_mix={"sensor": 3, "drone": 1})
    d = fleet.devices(t_s=3600)
    assert list(d.columns[:6]) == ["type", "sensor", "unit", "x", "y", "battery"]
    assert set(d["type"]) == {"sensor", "drone"}
    assert set(d["sensor"]) <= set(SENSOR_TYPES)
    assert d["buffer_utilisation"].between(0, 1).all()
    assert (d["buffered"] <= 1000).all()
    assert d["battery"].between(0, 100).all()
    assert ((d["x"] >= 0) & (d["x"] < 1000)).all()
    assert DEVICE_TYPES == ("sensor", "gateway", "controller", "camera", "robot", "drone")


def test_unreachable_devices_fill_their_buffer() -> None:
    d = Fleet(10, seed=1, offline_dbm=0.0).devices(t_s=86_400)
    assert (~d["online"]).all()
    assert (d["buffer_utilisation"] == 1.0).all()
    assert (d["dropped"] == 8640 - 1000).all()


def test_daily_cycle_has_a_one_day_period() -> None:
    fleet = Fleet(300, seed=2, sensor="temperature", fault_rate_per_day=0, wear_fraction=0)
    r = fleet.readings(steps=4 * 24, dt_s=3600)
    mean = r.values.mean(axis=0)
    spectrum = np.abs(np.fft.rfft(mean - mean.mean()))
    assert int(np.argmax(spectrum)) == 4  # four cycles in four days
    swing = mean.reshape(4, 24).mean(axis=0)
    assert swing.max() - swing.min() == pytest.approx(8.0, abs=0.6)  # 2 x amplitude 4 degC


def test_noise_level_matches_each_device() -> None:
    fleet = Fleet(30, seed=5, sensor="pressure", fault_rate_per_day=0, wear_fraction=0)
    r = fleet.readings(steps=3000, dt_s=1)
    sd = np.diff(r.values, axis=1).std(axis=1) / np.sqrt(2)
    np.testing.assert_allclose(sd / fleet.devices()["noise_sd"].to_numpy(), 1.0, atol=0.08)


def test_faults_are_where_labelled() -> None:
    fleet = Fleet(200, seed=8, sensor="humidity", fault_rate_per_day=12, wear_fraction=0)
    r = fleet.readings(steps=24 * 60, dt_s=60)
    labels = r.labels
    counts = np.bincount(labels.ravel(), minlength=len(FAULT_LABELS))
    for kind in ("spike", "stuck", "drift", "dropout"):
        assert counts[FAULT_LABELS.index(kind)] > 0, kind
    assert np.array_equal(np.isnan(r.values), labels == FAULT_LABELS.index("dropout"))
    clean = Fleet(200, seed=8, sensor="humidity", fault_rate_per_day=0, wear_fraction=0).readings(
        steps=24 * 60, dt_s=60
    )
    healthy = labels == 0
    assert np.array_equal(r.values[healthy], clean.values[healthy])
    spikes = labels == FAULT_LABELS.index("spike")
    noise = fleet.devices()["noise_sd"].to_numpy()[:, None] * np.ones_like(r.values)
    jump = np.abs(r.values - clean.values)
    unclamped = (r.values > 0) & (r.values < 100)
    assert (jump[spikes & unclamped] >= 7.9 * noise[spikes & unclamped]).all()


def test_wear_ends_in_failure() -> None:
    fleet = Fleet(
        40, seed=6, sensor="vibration", fault_rate_per_day=0, wear_fraction=1.0, wear_horizon_days=2
    )
    r = fleet.readings(steps=2 * 24 * 6, dt_s=600)
    d = fleet.devices(t_s=r.times_s[-1])
    assert (d["health"] == 0).all()
    failed = r.times_s[None, :] >= d["failure_s"].to_numpy()[:, None]
    assert np.isnan(r.values[failed]).all()
    assert (r.labels[failed] == FAULT_LABELS.index("failure")).all()
    assert not np.isnan(r.values[~failed]).any()
    before = fleet.devices(t_s=0)["health"]
    assert (before == 1).all()


def test_alert_boundaries_and_severities() -> None:
    rules = AlertRules()
    values = np.array([[15.0, 35.0, 14.9, 13.0, 12.9, 37.0, 37.1, np.nan]])
    types, severities = rules.codes(values, metric="temperature")
    assert [ALERT_TYPES[t] for t in types[0]] == ["none", "none"] + ["temperature_low"] * 3 + [
        "temperature_high"
    ] * 2 + ["none"]
    assert list(severities[0]) == [0, 0, 1, 1, 2, 1, 2, 0]
    battery = rules.evaluate(np.array([10.0, 9.0, 0.5]), metric="battery")
    assert list(battery["device"]) == [1, 2]
    assert list(battery["severity"]) == ["warning", "critical"]
    vib = rules.evaluate(np.array([[5.0, 5.5, 5.6]]), metric="vibration")
    assert list(vib["severity"]) == ["warning", "critical"]
    hum = AlertRules(humidity_high=70).evaluate(np.array([[75.0, 81.0]]), metric="humidity")
    assert list(hum["type"]) == ["humidity_high"] * 2
    assert list(hum["severity"]) == ["warning", "critical"]


def test_critical_alerts_make_emergency_records() -> None:
    rules = AlertRules()
    alerts = rules.evaluate(
        np.array([[40.0, 20.0], [20.0, 50.0], [36.0, 20.0]]),
        metric="temperature",
        devices=[7, 8, 9],
        times_s=[5, 6],
    )
    records = AlertRules.emergencies(alerts, zone="hall-a")
    assert len(records) == 1
    rec = records[0]
    assert rec["affected_devices"] == [7, 8]
    assert rec["time"] == 5.0
    assert rec["severity"] == "critical"
    Emergency(**rec)  # the coordinator's record type accepts it


def test_fleet_alerts_cover_the_matching_sensors() -> None:
    fleet = Fleet(3000, seed=1)
    r = fleet.readings(steps=120, dt_s=300)
    alerts = AlertRules(temperature_high=25, humidity_high=55).evaluate_fleet(fleet, r)
    sensors = fleet.devices()["sensor"]
    assert len(alerts) > 0
    for _, row in alerts.iterrows():
        if row["metric"] != "battery":
            assert sensors[row["device"]] == row["metric"]


def test_clustering_covers_everyone_with_member_heads_and_is_deterministic() -> None:
    positions = Fleet(5000, seed=2).positions()
    a = cluster(positions, k=25, seed=4)
    b = cluster(positions, k=25, seed=4)
    assert a.k == 25
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.heads, b.heads)
    assert set(a.labels.tolist()) == set(range(25))
    assert a.sizes.sum() == 5000
    assert (a.labels[a.heads] == np.arange(25)).all()
    d2 = ((positions - a.centroids[a.labels]) ** 2).sum(axis=1)
    for j, head in enumerate(a.heads):
        assert d2[head] == d2[a.labels == j].min()
    g = cluster(positions, cell_size=250)
    assert g.k == 16
    assert (g.labels[g.heads] == np.arange(16)).all()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: Fleet(0), "n_devices"),
        (lambda: Fleet(5, seed=-1), "seed"),
        (lambda: Fleet(5, sensor="lidar"), "sensor"),
        (lambda: Fleet(5, device_mix={"tank": 1}), "device_mix"),
        (lambda: Fleet(5, device_mix={"sensor": 0}), "device_mix"),
        (lambda: Fleet(5, wear_fraction=2), "wear_fraction"),
        (lambda: Fleet(5, area_m=0), "area_m"),
        (lambda: Fleet(5).readings(steps=0), "steps"),
        (lambda: Fleet(5).readings(steps=3, dt_s=0), "dt_s"),
        (lambda: Fleet(5).devices(t_s=-1), "t_s"),
        (lambda: AlertRules(temperature_low=40), "temperature_high"),
        (lambda: AlertRules(warning_band=float("nan")), "warning_band"),
        (lambda: AlertRules().codes(np.zeros(3), metric="wind"), "metric"),
        (lambda: AlertRules().codes(np.zeros((2, 3)), metric=["battery"]), "metric"),
        (lambda: cluster(np.zeros((4, 2)), k=0), "k"),
        (lambda: cluster(np.zeros((4, 2)), k=5), "k"),
        (lambda: cluster(np.zeros((4, 2))), "k"),
        (lambda: cluster(np.array([[0.0, np.nan]]), k=1), "positions"),
        (lambda: cluster(np.zeros((4, 2)), cell_size=-1), "cell_size"),
        (lambda: _core.FleetEngine(5, seed=1, device_mix=[1, 2]), "device_mix"),
    ],
)
def test_bad_input_names_the_parameter(call, name) -> None:
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 6])
def test_rank_by_centroid_puts_the_engine_head_first(dim: int) -> None:
    """The head rule computed once in Python (Raft members) agrees with the engine's heads."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        pts = rng.random((int(rng.integers(1, 120)), dim))
        if seed % 2:
            pts = np.round(pts * 3) / 3  # coarse grid: many exact ties, broken to the lower index
        found = cluster(pts, k=min(6, len(pts)), seed=seed)
        centroids, ranked = rank_by_centroid(pts, found.labels, heads=found.heads)
        np.testing.assert_array_equal(centroids, found.centroids)  # summed as the engine sums
        assert [r[0] for r in ranked] == found.heads.tolist()
        for j, r in enumerate(ranked):
            assert sorted(r.tolist()) == np.flatnonzero(found.labels == j).tolist()
            d2 = ((pts[r] - centroids[j]) ** 2).sum(axis=1)
            assert np.all(np.diff(d2[1:]) >= 0)  # the rest nearest first
        if dim <= 3:  # up to 3 coordinates the engine sums a distance in order, as NumPy does
            _, unforced = rank_by_centroid(pts, found.labels)
            assert [r[0] for r in unforced] == found.heads.tolist()


def test_rank_by_centroid_rejects_bad_input() -> None:
    pts = np.zeros((3, 2))
    for kwargs, name in [
        ({"positions": np.zeros((0, 2)), "labels": []}, "positions"),
        ({"positions": [[0.0, np.nan]], "labels": [0]}, "positions"),
        ({"positions": pts, "labels": [0, 1]}, "labels"),
        ({"positions": pts, "labels": [0, 2, 2]}, "labels"),  # cluster 1 empty
        ({"positions": pts, "labels": [0, 0, 1], "heads": [2, 2]}, "heads"),  # 2 is not in cluster 0
    ]:
        with pytest.raises(ValueError, match=f"^{name}:"):
            rank_by_centroid(**kwargs)
