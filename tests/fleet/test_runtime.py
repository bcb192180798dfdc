"""EdgeRuntime without FastAPI: determinism, alerts and emergencies, ML counts, uplinks, persistence."""

from __future__ import annotations

import json
import math

import edgeswarm as es
import numpy as np
import pytest
from edgeswarm.fleet.runtime import (
    DeviceConflict,
    EdgeRuntime,
    UnknownItem,
    _MemoryStore,
    detector_seed,
)
from edgeswarm.ml.registry import DETECTORS, EDGE_DETECTORS

# Tight limits so a 10-device fleet raises warnings, critical alerts and emergencies within
# a few ticks; seed 1 has temperature, humidity and vibration sensors among its 10 devices.
TIGHT = es.fleet.AlertRules(
    temperature_low=20.0, temperature_high=26.0, humidity_low=40.0, humidity_high=60.0, vibration_high=0.5
)
SEED = 1
N = 10


def run(rt: EdgeRuntime, ticks: int, start: int = 1) -> list[list[dict]]:
    return [rt.tick(e, e * 0.5) for e in range(start, start + ticks)]


def without_timing(value):
    """Drops the measured inference times (wall clock), the only non-deterministic fields."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in ("total_ns", "mean_ns_per_sample")}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def test_defaults_are_the_issue_thresholds() -> None:
    rules = EdgeRuntime(devices=2, seed=0).options.alert_rules
    assert (rules.temperature_low, rules.temperature_high) == (15.0, 35.0)
    assert (rules.humidity_low, rules.humidity_high) == (20.0, 80.0)
    assert (rules.battery_low, rules.battery_high) == (10.0, 100.0)
    assert (rules.vibration_low, rules.vibration_high) == (0.0, 5.0)


def test_models_are_named_configurations_of_the_detector_registry() -> None:
    rt = EdgeRuntime(devices=2, seed=0)
    assert rt.options.models == EDGE_DETECTORS and set(rt.summary()["ml"]) == set(EDGE_DETECTORS)
    for bad in (("likelihood",), ("ewma_z5", "ewma_z5"), ()):  # an old name, a repeat, none
        with pytest.raises(ValueError, match="^models:"):
            EdgeRuntime(devices=2, models=bad)
    # Any registry name runs with the registry's configuration (here a NAB one).
    rt = EdgeRuntime(devices=3, seed=2, models=("rarity_alarm",))
    run(rt, 3)
    o = rt.options
    steps = math.floor(3 * 0.5 * o.time_scale / o.sample_s) + 1
    values = (
        es.fleet.Fleet(3, seed=2, report_interval_s=o.sample_s).readings(steps, dt_s=o.sample_s).values[0]
    )
    scores, _ = DETECTORS["rarity_alarm"].score(values)
    (report,) = rt.device_models("dev-0000")["models"]
    assert report["model"] == "rarity_alarm" and report["anomalies"] == int((scores > 0.5).sum())
    assert report["inferences"] == int(np.isfinite(scores).sum())


def test_same_seed_same_messages_and_other_seed_differs() -> None:
    a = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT)
    b = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT)
    c = EdgeRuntime(devices=N, seed=SEED + 1, alert_rules=TIGHT)
    out_a, out_b, out_c = run(a, 30), run(b, 30), run(c, 30)
    types = {m["type"] for tick in out_a for m in tick}
    assert {"alert", "emergency", "edge"} <= types  # the comparison covers every kind
    assert json.dumps(without_timing(out_a)) == json.dumps(without_timing(out_b))
    assert json.dumps(without_timing(out_a)) != json.dumps(without_timing(out_c))
    for tick in out_a:  # JSON-ready: no NaN, no numpy types
        json.dumps(tick, allow_nan=False)


def reference_alerts(fleet: es.fleet.Fleet, rules: es.fleet.AlertRules, ticks: int, scale: float, dt: float):
    """Per tick, {(device row, alert type): worst severity code}, from the public fleet API:
    every reading graded at once, then taken tick by tick; batteries at each tick's last time."""
    ends = [math.floor(e * 0.5 * scale / dt) + 1 for e in range(1, ticks + 1)]
    values = fleet.readings(ends[-1], dt_s=dt).values
    metrics = [str(es.fleet.SENSOR_TYPES[c]) for c in fleet.sensor_codes()]
    rows = [r for r, m in enumerate(metrics) if m in ("temperature", "humidity", "vibration")]
    types, sev = rules.codes(values[rows], metric=[metrics[r] for r in rows])
    battery = np.column_stack([fleet.devices(t_s=(end - 1) * dt)["battery"].to_numpy() for end in ends])
    b_types, b_sev = rules.codes(battery, metric="battery")
    out, start = [], 0
    for tick, end in enumerate(ends):
        active: dict[tuple[int, str], int] = {}
        for i, row in enumerate(rows):
            for t, v in zip(types[i, start:end], sev[i, start:end], strict=True):
                if t:
                    key = (row, es.fleet.ALERT_TYPES[t])
                    active[key] = max(active.get(key, 0), int(v))
        for row in np.flatnonzero(b_types[:, tick]):
            active[(int(row), es.fleet.ALERT_TYPES[b_types[row, tick]])] = int(b_sev[row, tick])
        out.append(active)
        start = end
    return out


def test_alerts_are_emitted_on_activation_and_escalation_only() -> None:
    rt = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT)
    ticks = 30
    emitted = [
        {
            (int(m["data"]["device_id"][4:]), m["data"]["alert_type"], m["data"]["severity"])
            for m in tick
            if m["type"] == "alert"
        }
        for tick in run(rt, ticks)
    ]
    fleet = es.fleet.Fleet(N, seed=SEED, report_interval_s=rt.options.sample_s)
    active = reference_alerts(fleet, TIGHT, ticks, rt.options.time_scale, rt.options.sample_s)
    names = ("none", "warning", "critical")
    previous: dict = {}
    for tick, now in zip(emitted, active, strict=True):
        expected = {(r, t, names[s]) for (r, t), s in now.items() if previous.get((r, t), 0) < s}
        assert tick == expected
        previous = now
    assert sum(len(t) for t in emitted) > 3


def test_critical_alert_raises_an_emergency_that_raft_commits() -> None:
    rt = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT)
    raised = committed = None
    for e, tick in enumerate(run(rt, 30), start=1):
        for m in tick:
            if m["type"] == "emergency" and m["data"]["status"] == "proposed" and raised is None:
                raised = (e, m["data"])
            if m["type"] == "emergency" and m["data"]["status"] == "committed" and committed is None:
                committed = (e, m["data"])
    assert raised is not None and committed is not None
    e_raised, em = raised
    assert em["source"] == "alert" and em["severity"] == "critical"
    # The critical alert of the same tick names the affected devices.
    replay = run(EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT), e_raised)[-1]
    alerts = [m["data"] for m in replay if m["type"] == "alert"]
    critical = {(a["device_id"], a["alert_type"]) for a in alerts if a.get("severity") == "critical"}
    assert {(d, em["type"]) for d in em["affected_devices"]} <= critical
    # Every affected device belongs to the proposing cluster; committed later with a Raft index.
    assert {rt.device(d)["cluster_id"] for d in em["affected_devices"]} == {em["cluster_id"]}
    assert committed[0] > e_raised and committed[1]["raft_index"] >= 1
    listed = {e["id"]: e for e in rt.emergencies()}
    assert committed[1]["id"] in listed
    assert rt.summary()["emergencies"]["total"] == len(listed)


def test_emergency_resolves_when_its_alerts_clear() -> None:
    rt = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT)
    ticks = run(rt, 40)
    fleet = es.fleet.Fleet(N, seed=SEED, report_interval_s=rt.options.sample_s)
    active = reference_alerts(fleet, TIGHT, 40, rt.options.time_scale, rt.options.sample_s)
    resolved = [
        (e, m["data"])
        for e, tick in enumerate(ticks)
        for m in tick
        if m["type"] == "emergency" and m["data"]["resolved"]
    ]
    assert resolved, "seed 1 has an emergency whose alerts clear within 40 ticks"
    for e, em in resolved:
        rows = [int(d[4:]) for d in em["affected_devices"]]
        assert em["resolution"] == "alerts cleared"
        assert not any((r, em["type"]) in active[e] for r in rows)  # cleared in that tick
        assert any((r, em["type"]) in active[e - 1] for r in rows)  # not the tick before
    assert {em["id"] for _, em in resolved} == {e["id"] for e in rt.emergencies() if e["resolved"]}


def test_ml_counts_match_a_numpy_recomputation() -> None:
    # Many faults and 10 device-minutes per tick, so every confusion cell and NaNs occur.
    rt = EdgeRuntime(devices=6, seed=4, fault_rate_per_day=24.0, time_scale=1200.0)
    run(rt, 25)
    o = rt.options
    steps = math.floor(25 * 0.5 * o.time_scale / o.sample_s) + 1
    fleet = es.fleet.Fleet(6, seed=4, report_interval_s=o.sample_s, fault_rate_per_day=24.0)
    r = fleet.readings(steps, dt_s=o.sample_s)
    assert np.isnan(r.values).any() and (r.labels[np.isfinite(r.values)] != 0).any()
    assert rt.summary()["readings"]["total"] == r.values.size
    assert rt.summary()["readings"]["invalid"] == int(np.isnan(r.values).sum())
    for row in range(6):
        device_id = f"dev-{row:04d}"
        reported = {m["model"]: m for m in rt.device_models(device_id)["models"]}
        assert set(reported) == set(o.models)
        for model in o.models:
            scores, confidence = DETECTORS[model].create(detector_seed(o.seed, row)).score(r.values[row])
            valid = np.isfinite(scores)
            flag = valid & (scores > 0.5)
            truth = (r.labels[row] != 0) & valid
            got = reported[model]
            assert got["calls"] == 25
            assert got["inferences"] == valid.sum() and got["invalid"] == (~valid).sum()
            assert got["anomalies"] == flag.sum()
            assert got["tp"] == (flag & truth).sum() and got["fp"] == (flag & ~truth).sum()
            assert got["fn"] == (~flag & truth).sum() and got["tn"] == (valid & ~flag & ~truth).sum()
            if not valid.any():  # drift scores nothing before two device-days (this run is 4 h)
                assert model == "drift_cusum" and got["last_score"] is None and got["accuracy"] is None
                continue
            last = np.flatnonzero(valid)[-1]
            assert got["last_score"] == scores[last] and got["last_confidence"] == confidence[last]
            assert got["accuracy"] == pytest.approx((valid & (flag == truth)).sum() / valid.sum())
            if flag.sum() == 0:
                assert got["precision"] is None
            if truth.sum() == 0:
                assert got["recall"] is None
            assert got["samples"] == steps and got["mean_ns_per_sample"] == got["total_ns"] / steps > 0
    summary = rt.summary()["ml"]
    # Every confusion cell for the value models; stuck and drift do not misfire on clean data
    # (and drift scores nothing in a run this short), so only their own cells are checked.
    assert all(
        summary[m][cell] > 0
        for m in ("ewma_z5", "ewma_alarm_no_range_break")
        for cell in ("tp", "fp", "tn", "fn", "invalid")
    )
    assert summary["stuck_sensor"]["tp"] > 0 and summary["drift_cusum"]["invalid"] == r.values.size
    for model in o.models:
        rows = [
            m for d in range(6) for m in rt.device_models(f"dev-{d:04d}")["models"] if m["model"] == model
        ]
        assert summary[model]["tp"] == sum(m["tp"] for m in rows)
        assert summary[model]["inferences"] == sum(m["inferences"] for m in rows)
        # Recall per fault kind: scored samples of each label and those flagged, over the fleet.
        scored = np.zeros(r.values.shape, bool)
        flagged = np.zeros(r.values.shape, bool)
        for row in range(6):
            scores, _ = DETECTORS[model].create(detector_seed(o.seed, row)).score(r.values[row])
            scored[row] = np.isfinite(scores)
            flagged[row] = scored[row] & (scores > 0.5)
        expected = {}
        for code, name in enumerate(es.fleet.FAULT_LABELS[1:], start=1):
            n, k = int((scored & (r.labels == code)).sum()), int((flagged & (r.labels == code)).sum())
            if n:
                expected[name] = {"labelled": n, "detected": k, "recall": k / n}
        assert summary[model]["by_fault"] == expected
        if model != "drift_cusum":  # drift_cusum scored nothing (see above)
            assert {"spike", "stuck", "drift"} <= set(expected)  # NaN kinds (dropout, ...) are never scored
        assert sum(v["labelled"] for v in expected.values()) == summary[model]["tp"] + summary[model]["fn"]


def test_ml_reports_equal_the_project_model_tracker_fed_device_by_device() -> None:
    """The runtime's batched record_fleet gives what ModelTracker.track gives for the same
    calls fed device by device (timings aside), row for row and key for key."""
    rt = EdgeRuntime(devices=5, seed=6, fault_rate_per_day=24.0, time_scale=1200.0)
    o = rt.options
    fleet = es.fleet.Fleet(5, seed=6, report_interval_s=o.sample_s, fault_rate_per_day=24.0)
    reference = es.model_tracking.ModelTracker()
    detectors = {
        (row, m): DETECTORS[m].create(detector_seed(o.seed, row)) for row in range(5) for m in o.models
    }
    start = 0
    for e in range(1, 9):
        rt.tick(e, e * 0.5)
        end = math.floor(e * 0.5 * o.time_scale / o.sample_s) + 1
        r = fleet.readings(end - start, dt_s=o.sample_s, t0_s=start * o.sample_s)
        for (row, m), detector in detectors.items():
            reference.track(f"dev-{row:04d}", detector, r.values[row], model=m, labels=r.labels[row] != 0)
        start = end
    for row in range(5):
        device_id = f"dev-{row:04d}"
        assert without_timing(rt.device_models(device_id)["models"]) == without_timing(
            reference.report(device_id)
        )


def test_publish_counters_add_up_and_latencies_follow_the_link_model() -> None:
    rt = EdgeRuntime(devices=8, seed=5)
    run(rt, 3)
    outcomes = [rt.publish(f"dev-{i % 8:04d}", {"n": i}) for i in range(40)]
    assert {o["status"] for o in outcomes} <= {"in_flight", "dropped_loss", "dropped_offline"}
    link = rt.options.link
    for tick in range(4, 12):
        rt.tick(tick, tick * 0.5)
        totals = {"sent": 0, "received": 0, "dropped": 0, "in_flight": 0}
        for i in range(8):
            m = rt.device_metrics(f"dev-{i:04d}")
            assert m["sent"] == m["received"] + m["dropped"] + m["in_flight"]
            assert m["dropped"] == m["dropped_loss"] + m["dropped_offline"]
            assert len(m["latency_samples"]) == min(m["received"], link.latency_samples)
            for v in m["latency_samples"]:
                assert (
                    link.base_latency_ms <= v < link.base_latency_ms + link.weak_latency_ms + link.jitter_ms
                )
            if m["received"]:
                assert m["avg_latency"] >= link.base_latency_ms
            for k in totals:
                totals[k] += m[k]
        assert totals == {k: rt.summary()["link"][k] for k in totals}
    # Every tracked message that was not dropped has arrived in its device's inbox by now.
    delivered = {item["message_id"] for i in range(8) for item in rt.device_metrics(f"dev-{i:04d}")["inbox"]}
    flying = {o["message_id"] for o in outcomes if o["status"] == "in_flight"}
    assert flying <= delivered


def test_publish_is_deterministic_for_a_seed() -> None:
    def outcomes(seed: int) -> list:
        rt = EdgeRuntime(devices=4, seed=seed)
        run(rt, 2)
        return [rt.publish(f"dev-{i % 4:04d}", "hello") for i in range(30)]

    assert outcomes(9) == outcomes(9)
    assert outcomes(9) != outcomes(10)


def test_added_device_is_persisted_and_restored() -> None:
    store = _MemoryStore()
    rt = EdgeRuntime(devices=N, seed=SEED, store=store)
    run(rt, 2)
    added = rt.add_device(
        device_id="pump-7", device_type="controller", sensor="vibration", x=10.0, y=20.0, name="pump"
    )
    assert (
        added["source"] == "admin"
        and added["sensor"] == "vibration"
        and (added["x"], added["y"]) == (10.0, 20.0)
    )
    assert rt.n_devices == N + 1
    run(rt, 3, start=3)
    models = rt.device_models("pump-7")["models"]
    assert models and all(m["calls"] == 3 for m in models)
    assert any(c["cluster_id"] == added["cluster_id"] for c in rt.clusters())
    with pytest.raises(DeviceConflict, match="device_id"):
        rt.add_device(device_id="pump-7", device_type="sensor", sensor="light", x=1.0, y=1.0)
    with pytest.raises(ValueError, match="^sensor:"):
        rt.add_device(device_id="x1", device_type="sensor", sensor="smell", x=1.0, y=1.0)
    with pytest.raises(ValueError, match="^x:"):
        rt.add_device(device_id="x1", device_type="sensor", sensor="light", x=-1.0, y=1.0)
    with pytest.raises(ValueError, match="^device_id:"):
        rt.add_device(device_id="bad id", device_type="sensor", sensor="light", x=1.0, y=1.0)

    restarted = EdgeRuntime(devices=N, seed=SEED, store=store)
    assert restarted.n_devices == N + 1
    again = restarted.device("pump-7")
    assert {k: again[k] for k in ("device_type", "sensor", "x", "y", "name", "cluster_id")} == {
        k: added[k] for k in ("device_type", "sensor", "x", "y", "name", "cluster_id")
    }
    # Its signals are a function of (seed, id, time): the same readings after the restart.
    assert json.dumps(without_timing(run(restarted, 5))) == json.dumps(
        without_timing(run(EdgeRuntime(devices=N, seed=SEED, store=store), 5))
    )


def test_emergencies_survive_a_restart() -> None:
    store = _MemoryStore()
    rt = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT, store=store)
    run(rt, 30)
    before = {e["id"]: e for e in rt.emergencies()}
    assert before
    restarted = EdgeRuntime(devices=N, seed=SEED, alert_rules=TIGHT, store=store)
    after = {e["id"]: e for e in restarted.emergencies()}
    assert set(after) == set(before)
    for key, e in after.items():
        in_flight = ("proposed", "acknowledged", "unknown")  # its Raft group died with the process
        expected = "abandoned" if before[key]["status"] in in_flight else before[key]["status"]
        assert e["status"] == expected
    # New emergencies continue the numbering instead of reusing ids.
    new = restarted.raise_emergency(type="fire", severity="high", affected_devices=["dev-0001"])
    assert new["id"] not in before


def test_operator_emergency_goes_to_the_cluster_of_most_devices() -> None:
    rt = EdgeRuntime(devices=N, seed=SEED)
    run(rt, 2)
    by_cluster: dict[int, list[str]] = {}
    for d in rt.devices()["devices"]:
        by_cluster.setdefault(d["cluster_id"], []).append(d["device_id"])
    big = max(by_cluster, key=lambda c: (len(by_cluster[c]), -c))
    other = next(c for c in by_cluster if c != big)
    devices = by_cluster[big][:2] + by_cluster[other][:1]
    record = rt.raise_emergency(type="fire", severity="high", affected_devices=devices, action="evacuate")
    assert (
        record["cluster_id"] == big and record["status"] == "proposed" and record["zone"] == f"cluster-{big}"
    )
    run(rt, 2, start=3)
    assert rt.emergency_list()["emergencies"][0]["status"] == "committed"
    assert rt.resolve_emergency(record["id"])["resolved"] is True
    with pytest.raises(DeviceConflict):
        rt.resolve_emergency(record["id"])
    with pytest.raises(UnknownItem):
        rt.resolve_emergency("em-999999")
    with pytest.raises(ValueError, match="^affected_devices:"):
        rt.raise_emergency(type="fire", severity="high", affected_devices=["nope"])
    with pytest.raises(ValueError, match="^severity:"):
        rt.raise_emergency(type="fire", severity="apocalyptic", affected_devices=["dev-0001"])
    with pytest.raises(ValueError, match="^cluster_id:"):
        rt.raise_emergency(type="fire", severity="high", affected_devices=["dev-0001"], cluster_id=99)


def test_clusters_have_heads_at_once_and_leaders_once_raft_elected() -> None:
    rt = EdgeRuntime(devices=N, seed=SEED)
    clusters = rt.clusters()
    assert sum(c["size"] for c in clusters) == N
    assert all(c["leader"] is None for c in clusters)  # no simulated time yet: no leader
    # The head is es.fleet.cluster's: the device nearest the centroid, fixed by the positions.
    o = rt.options
    positions = es.fleet.Fleet(N, seed=SEED, area_m=o.area_m).positions()
    found = es.fleet.cluster(positions, k=round(math.sqrt(N / 2)), seed=SEED)
    assert [c["cluster_id"] for c in clusters] == list(range(found.k))
    assert [c["head"] for c in clusters] == [f"dev-{h:04d}" for h in found.heads]
    assert [c["centroid"] for c in clusters] == found.centroids.tolist()
    assert o.n_clusters is None  # the default k, round(sqrt(devices / 2)), as used above
    run(rt, 2)
    clusters = rt.clusters()
    for c in clusters:
        assert c["leader"] in c["members"] and c["members"][0] == c["head"]
        detail = rt.cluster(c["cluster_id"])
        assert [d["device_id"] for d in detail["devices"]] == [
            d["device_id"] for d in rt.devices()["devices"] if d["cluster_id"] == c["cluster_id"]
        ]
    assert rt.summary()["clusters"] == {"count": len(clusters), "with_leader": len(clusters)}
    with pytest.raises(UnknownItem):
        rt.cluster(99)


def test_time_rules_gaps_and_unknown_ids() -> None:
    rt = EdgeRuntime(devices=3, seed=2, max_samples_per_tick=10)
    assert rt.tick(1, 0.0)[-1]["data"]["readings"]["total"] == 3  # sample 0 at device time 0
    assert rt.tick(2, 0.0)[-1]["data"]["readings"]["total"] == 3  # no time passed: nothing new
    summary = rt.tick(3, 100.0)[-1]["data"]  # a stalled loop: 1200 samples due, 10 kept
    assert summary["readings"]["total"] == 3 + 3 * 10
    assert summary["readings"]["skipped"] == 3 * (1200 - 10)
    for call in (rt.device, rt.device_status, rt.device_metrics, rt.device_models):
        with pytest.raises(UnknownItem, match="device_id"):
            call("dev-9999")
    with pytest.raises(UnknownItem):
        rt.publish("dev-9999", "x")
    with pytest.raises(ValueError, match="devices"):
        EdgeRuntime(devices=0)
    with pytest.raises(ValueError, match="options"):
        EdgeRuntime(devices=2, colour="red")


def test_rows_of_others_in_the_store_are_skipped() -> None:
    store = _MemoryStore()
    store.upsert_device({"id": "dev-1", "kind": "temperature"})  # not written by the runtime
    store.upsert_device({"id": "far", "device_type": "sensor", "sensor": "light", "x": 5e6, "y": 1.0})
    store.add_emergency({"id": "em-1", "type": "fire", "status": "proposed"})
    rt = EdgeRuntime(devices=3, seed=1, store=store)
    assert rt.n_devices == 3 and rt.emergencies() == []
    assert rt.analytics()["store_skipped"] == {"devices": 2, "emergencies": 1}
    assert store.emergencies() == [{"id": "em-1", "type": "fire", "status": "proposed"}]  # left alone
