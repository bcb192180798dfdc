"""Restart: users, the JWT key, audit, history, devices and emergencies survive it."""

from __future__ import annotations

import pytest
from edgeswarm.service import create_app
from edgeswarm.service.store import Store
from fastapi.testclient import TestClient

from tests.service.conftest import add_user, login, make_settings


def test_data_written_before_a_restart_is_there_after_it(tmp_path) -> None:
    db = tmp_path / "service.db"
    with TestClient(create_app(make_settings(db))) as client:
        admin = login(client, "admin", "admin-test-password")
        operator = add_user(client, admin, "olivia", "operator")
        assert client.post("/api/inject_byzantine", json={"count": 10}, headers=operator).status_code == 200
        swarm_loop = client.app.state.swarm_loop
        for _ in range(6):
            swarm_loop.step()
        first_run = swarm_loop.run_id
        history_before = client.get("/api/history").json()
        audit_before = client.get("/api/audit", headers=admin).json()
        store = client.app.state.store
        store.upsert_device({"id": "dev-1", "kind": "temperature", "zone": "north"})
        store.add_emergency({"id": "em-1", "type": "fire", "status": "proposed"})
        store.update_emergency("em-1", {"status": "committed"})

    with TestClient(create_app(make_settings(db))) as client:
        # tokens issued before the restart still work (the signing key is in the database)
        assert client.get("/api/users", headers=admin).status_code == 200
        assert (
            client.post(
                "/api/inject_noise", json={"intensity": 0.1, "duration_sec": 1}, headers=operator
            ).status_code
            == 200
        )
        users = {u["username"]: u["role"] for u in client.get("/api/users", headers=admin).json()}
        assert users == {"admin": "admin", "olivia": "operator"}
        login(client, "olivia", "olivia-password")

        audit_after = client.get("/api/audit", params={"limit": 1000}, headers=admin).json()
        assert audit_after[-len(audit_before) :] == audit_before  # older entries kept, newer on top
        assert [e["path"] for e in audit_after[:2]] == ["/api/auth/token", "/api/inject_noise"]

        runs = client.get("/api/history/runs").json()
        assert [r["run"] for r in runs] == [first_run, client.app.state.swarm_loop.run_id]
        assert client.get("/api/history", params={"run": first_run}).json() == history_before
        assert client.get("/api/history").json() == []  # the new run starts afresh

        store = client.app.state.store
        assert store.device("dev-1") == {"id": "dev-1", "kind": "temperature", "zone": "north"}
        assert store.emergencies(10) == [{"id": "em-1", "type": "fire", "status": "committed"}]


def test_store_edge_tables(tmp_path) -> None:
    store = Store(tmp_path / "s.db")
    try:
        assert store.devices() == [] and store.device(3) is None
        store.upsert_device({"device_id": 3, "battery": 0.8})
        store.upsert_device({"device_id": 4, "battery": 0.5})
        store.upsert_device({"device_id": 3, "battery": 0.7})
        assert store.device(3) == {"device_id": 3, "battery": 0.7}
        assert {d["device_id"] for d in store.devices()} == {3, 4}
        for i in range(3):
            store.add_emergency({"emergency_id": f"e{i}", "severity": "critical"})
        assert [e["emergency_id"] for e in store.emergencies(2)] == ["e2", "e1"]
        assert store.update_emergency("nope", {"status": "x"}) is None
        with pytest.raises(ValueError, match="payload: needs one of the keys id, device_id"):
            store.upsert_device({"name": "no id"})
    finally:
        store.close()
