"""`make demo` is eventful: with the service's default settings the edge fleet raises warnings,
critical alerts and a Raft-committed emergency within the first two minutes, from the fleet
generator's own seeded wear and faults (nothing scripted)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import edgeswarm as es
from edgeswarm.fleet.runtime import EdgeOptions
from edgeswarm.service import Settings, create_app
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings

DEMO_NODES, DEMO_EPOCH_MS = 100, 500  # what the Makefile's demo target passes to `edgeswarm serve`
EPOCHS = 2 * 60 * 1000 // DEMO_EPOCH_MS  # two minutes of the demo


def demo_messages(db_path: Path) -> tuple[list[tuple[int, dict[str, Any]]], TestClient]:
    """Steps the real app (realtime=False) EPOCHS epochs with the default devices, seed and
    edge settings; returns the (epoch, alert or emergency message) pairs the runtime emitted."""
    defaults = Settings.model_fields
    settings = make_settings(
        db_path,
        nodes=DEMO_NODES,
        epoch_ms=DEMO_EPOCH_MS,
        devices=defaults["devices"].default,
        seed=defaults["seed"].default,
        # explicit, so no EDGESWARM_EDGE_* variable leaks in
        **{name: field.default for name, field in defaults.items() if name.startswith("edge_")},
    )
    seen: list[tuple[int, dict[str, Any]]] = []
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    edge = app.state.edge
    tick = edge.tick

    def recording_tick(epoch: int, t_s: float) -> list[dict[str, Any]]:
        out = tick(epoch, t_s)
        seen.extend((epoch, m) for m in out if m["type"] in ("alert", "emergency"))
        return out

    edge.tick = recording_tick  # the swarm_loop calls app.state.edge.tick once per epoch
    for _ in range(EPOCHS):
        app.state.swarm_loop.step()
    return seen, client


def test_demo_defaults_raise_alerts_and_a_committed_emergency_within_two_minutes(tmp_path: Path) -> None:
    seen, client = demo_messages(tmp_path / "demo.db")
    defaults = Settings.model_fields
    try:
        alerts = [m["data"] for _, m in seen if m["type"] == "alert"]
        emergencies = [m["data"] for _, m in seen if m["type"] == "emergency"]
        assert {"warning", "critical"} <= {a["severity"] for a in alerts}
        committed = [e for e in emergencies if e["status"] == "committed"]
        assert committed, "no emergency committed within two minutes of the demo"
        first = committed[0]
        assert first["source"] == "alert" and first["raft_index"] >= 1
        critical = {(a["device_id"], a["alert_type"]) for a in alerts if a["severity"] == "critical"}
        assert {(d, first["type"]) for d in first["affected_devices"]} <= critical
        listed = client.get("/api/edge/emergencies?status=committed").json()["emergencies"]
        assert first["id"] in {e["id"] for e in listed}
        # Wear ends in failure: an emergency whose devices all died says so when it resolves.
        resolved = [e for e in listed if e["resolved"]]
        assert resolved
        for e in resolved:
            health = [client.get(f"/api/edge/devices/{d}").json()["health"] for d in e["affected_devices"]]
            dead = all(h == 0.0 for h in health)
            assert e["resolution"] == ("devices failed (no readings)" if dead else "alerts cleared")
        # Two minutes are 40 device-hours of the time-lapse.
        device_time = client.get("/api/edge/analytics").json()["device_time_s"]
        assert device_time == EPOCHS * DEMO_EPOCH_MS / 1000 * defaults["edge_time_scale"].default
        # The alerting values are the generator's own readings (wear and faults), not scripted.
        fleet = es.fleet.Fleet(
            defaults["devices"].default,
            seed=defaults["seed"].default,
            report_interval_s=10.0,
            fault_rate_per_day=defaults["edge_fault_rate_per_day"].default,
            wear_fraction=defaults["edge_wear_fraction"].default,
            wear_horizon_days=defaults["edge_wear_horizon_days"].default,
        )
        checked = 0
        for a in alerts:
            if a["metric"] != "battery":
                row = int(a["device_id"].removeprefix("dev-"))
                value = fleet.readings(1, dt_s=10.0, t0_s=a["device_time_s"]).values[row, 0]
                assert value == a["value"]
                checked += 1
        assert checked > 0
    finally:
        client.__exit__(None, None, None)
    # Seeded: a second process on a fresh database emits the same alerts and emergencies.
    again, other = demo_messages(tmp_path / "again.db")
    other.__exit__(None, None, None)
    assert json.dumps(again) == json.dumps(seen)


def test_runtime_defaults_are_the_fleet_library_defaults() -> None:
    """Only the service settings speed the demo up; EdgeOptions and Fleet keep realistic rates."""
    fleet = inspect.signature(es.fleet.Fleet).parameters
    options = EdgeOptions()
    for name in ("fault_rate_per_day", "wear_fraction", "wear_horizon_days"):
        assert getattr(options, name) == fleet[name].default
    settings = Settings.model_fields
    assert settings["edge_wear_fraction"].default > options.wear_fraction
    assert settings["edge_time_scale"].default > options.time_scale
