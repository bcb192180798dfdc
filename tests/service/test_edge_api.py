"""The /api/edge/* and /api/devices/* endpoints through FastAPI's TestClient."""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass

import edgeswarm as es
import pytest
from edgeswarm.service.edge_runtime import EdgeRuntime, _MemoryStore
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

TIGHT = es.fleet.AlertRules(
    temperature_low=20.0, temperature_high=26.0, humidity_low=40.0, humidity_high=60.0, vibration_high=0.5
)
ROLES = ("viewer", "operator", "admin")
TICKS = 12  # by then seed 1 has committed emergencies raised from critical alerts


# --- a minimal stand-in for the core helper's deps (tokens are role names) ---------------


@dataclass(frozen=True)
class _User:
    username: str
    role: str


def _require_role(role: str):
    def dependency(request: Request) -> _User:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise HTTPException(401, detail="not authenticated", headers={"WWW-Authenticate": "Bearer"})
        given = header.removeprefix("Bearer ")
        if given not in ROLES:
            raise HTTPException(401, detail="invalid token", headers={"WWW-Authenticate": "Bearer"})
        if ROLES.index(given) < ROLES.index(role):
            raise HTTPException(403, detail=f"role {given!r} may not do this")
        return _User(f"test-{given}", given)

    return dependency


def _get_edge(request: Request) -> EdgeRuntime:
    return request.app.state.edge


def _get_store(request: Request) -> _MemoryStore:
    return request.app.state.store


def _stub_deps() -> None:
    if "edgeswarm.service.deps" in sys.modules:
        return
    stub = types.ModuleType("edgeswarm.service.deps")
    stub.get_edge = _get_edge  # type: ignore[attr-defined]
    stub.get_store = _get_store  # type: ignore[attr-defined]
    stub.require_role = _require_role  # type: ignore[attr-defined]
    sys.modules["edgeswarm.service.deps"] = stub


_stub_deps()
from edgeswarm.service.routes import devices as devices_routes
from edgeswarm.service.routes import edge as edge_routes


def make_app(runtime: EdgeRuntime) -> FastAPI:
    app = FastAPI()
    app.state.edge = runtime
    app.include_router(edge_routes.router)
    app.include_router(devices_routes.router)
    return app


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {role}"}


@pytest.fixture
def store() -> _MemoryStore:
    return _MemoryStore()


@pytest.fixture
def runtime(store: _MemoryStore) -> EdgeRuntime:
    rt = EdgeRuntime(devices=10, seed=1, alert_rules=TIGHT, store=store)
    for e in range(1, TICKS + 1):
        rt.tick(e, e * 0.5)
    return rt


@pytest.fixture
def client(runtime: EdgeRuntime):
    with TestClient(make_app(runtime), raise_server_exceptions=False) as c:
        yield c


def loc_fields(response) -> set[str]:
    return {str(part) for error in response.json()["detail"] for part in error["loc"]}


# --- reads ------------------------------------------------------------------------------


def test_analytics_and_summary_agree(client: TestClient, runtime: EdgeRuntime) -> None:
    body = client.get("/api/edge/analytics").json()
    assert body["devices"]["total"] == 10 and body["epoch"] == TICKS
    assert sum(body["devices_by_sensor"].values()) == 10
    assert sum(body["battery_histogram"]["counts"]) == 10
    assert body["alert_rules"]["temperature_high"] == 26.0
    summary = runtime.summary()
    for key in ("devices", "battery", "buffer", "alerts", "emergencies", "clusters", "link", "readings"):
        assert body[key] == summary[key]
    assert set(body["ml"]) == set(runtime.options.models)


def test_clusters_and_one_cluster(client: TestClient) -> None:
    clusters = client.get("/api/edge/clusters").json()["clusters"]
    assert sum(c["size"] for c in clusters) == 10
    for c in clusters:
        assert c["head"] in c["members"]
        detail = client.get(f"/api/edge/clusters/{c['cluster_id']}")
        assert detail.status_code == 200
        body = detail.json()
        assert len(body["devices"]) == c["size"] and {d["cluster_id"] for d in body["devices"]} == {
            c["cluster_id"]
        }
        assert body["raft"]["up"] and body["head"] == c["head"]
    assert client.get("/api/edge/clusters/999").status_code == 404
    assert "cluster_id" in client.get("/api/edge/clusters/999").json()["detail"]
    bad = client.get("/api/edge/clusters/abc")
    assert bad.status_code == 422 and "cluster_id" in loc_fields(bad)


def test_devices_paging_filters_and_detail(client: TestClient) -> None:
    page = client.get("/api/edge/devices", params={"limit": 3, "offset": 2}).json()
    assert page["total"] == 10 and [d["device_id"] for d in page["devices"]] == [
        "dev-0002",
        "dev-0003",
        "dev-0004",
    ]
    everything = client.get("/api/edge/devices").json()["devices"]
    sensors = {d["sensor"] for d in everything}
    one = min(sensors)
    only = client.get("/api/edge/devices", params={"sensor": one}).json()
    assert only["total"] == sum(d["sensor"] == one for d in everything) and {
        d["sensor"] for d in only["devices"]
    } == {one}
    online = client.get("/api/edge/devices", params={"online": "true"}).json()
    assert online["total"] == sum(d["online"] for d in everything)
    detail = client.get("/api/edge/devices/dev-0003").json()
    assert detail["device_id"] == "dev-0003" and detail["source"] == "fleet"
    assert detail == {**everything[3], "device_time_s": detail["device_time_s"]}
    for path, field in (("/api/edge/devices?limit=0", "limit"), ("/api/edge/devices?sensor=smell", "sensor")):
        bad = client.get(path)
        assert bad.status_code == 422 and field in loc_fields(bad)


def test_ml_models_of_a_device(client: TestClient) -> None:
    body = client.get("/api/edge/devices/dev-0001/ml-models").json()
    assert [m["model"] for m in body["models"]] == ["ewma", "mad", "hst"]
    for m in body["models"]:
        assert m["calls"] == TICKS and m["inferences"] + m["invalid"] > 0
        assert m["tp"] + m["fp"] + m["tn"] + m["fn"] == m["labelled"]
        assert m["inference_ns_per_sample"] > 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/edge/devices/nope",
        "/api/edge/devices/nope/ml-models",
        "/api/devices/nope/status",
        "/api/devices/nope/metrics",
    ],
)
def test_unknown_device_is_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "device_id" in response.json()["detail"]


def test_device_status_and_metrics(client: TestClient, runtime: EdgeRuntime) -> None:
    status = client.get("/api/devices/dev-0000/status").json()
    assert status["device_id"] == "dev-0000" and status["epoch"] == TICKS
    assert status["battery"] == runtime.device("dev-0000")["battery"]
    metrics = client.get("/api/devices/dev-0000/metrics").json()
    assert metrics["sent"] == metrics["received"] + metrics["dropped"] + metrics["in_flight"]
    assert metrics["sent"] > 0  # telemetry flows every tick while online


# --- emergencies ------------------------------------------------------------------------


def test_critical_alert_emergency_is_listed(client: TestClient, runtime: EdgeRuntime) -> None:
    body = client.get("/api/edge/emergencies").json()
    from_alerts = [e for e in body["emergencies"] if e["source"] == "alert"]
    assert from_alerts, "the tight rules give critical alerts within TICKS ticks"
    assert all(e["severity"] == "critical" for e in from_alerts)
    assert any(e["status"] == "committed" and e["raft_index"] >= 1 for e in from_alerts)
    assert body["total"] == len(runtime.emergencies(limit=1000))
    committed = client.get("/api/edge/emergencies", params={"status": "committed", "limit": 1}).json()
    assert len(committed["emergencies"]) == 1 and committed["emergencies"][0]["status"] == "committed"
    open_only = client.get("/api/edge/emergencies", params={"open": "true"}).json()["emergencies"]
    assert all(not e["resolved"] for e in open_only) and len(open_only) == body["open"]
    bad = client.get("/api/edge/emergencies", params={"status": "burning"})
    assert bad.status_code == 422 and "status" in loc_fields(bad)


def test_operator_raises_and_resolves_an_emergency(client: TestClient, runtime: EdgeRuntime) -> None:
    request = {
        "type": "fire",
        "severity": "high",
        "affected_devices": ["dev-0001", "dev-0002"],
        "action": "evacuate",
    }
    assert client.post("/api/edge/emergency-coordination", json=request).status_code == 401
    assert (
        client.post("/api/edge/emergency-coordination", json=request, headers=auth("viewer")).status_code
        == 403
    )
    response = client.post("/api/edge/emergency-coordination", json=request, headers=auth("operator"))
    assert response.status_code == 202
    record = response.json()
    assert record["status"] == "proposed" and record["reported_by"] == "test-operator"
    # Without a hub the message waits for the next tick, which also commits it in Raft.
    messages = runtime.tick(TICKS + 1, (TICKS + 1) * 0.5)
    assert any(m["type"] == "emergency" and m["data"]["id"] == record["id"] for m in messages)
    runtime.tick(TICKS + 2, (TICKS + 2) * 0.5)
    listed = {e["id"]: e for e in client.get("/api/edge/emergencies").json()["emergencies"]}
    assert listed[record["id"]]["status"] == "committed"
    path = f"/api/edge/emergencies/{record['id']}/resolve"
    assert client.post(path).status_code == 401
    assert client.post(path, headers=auth("viewer")).status_code == 403
    resolved = client.post(path, headers=auth("operator"))
    assert resolved.status_code == 200 and resolved.json()["resolved"] is True
    assert client.post(path, headers=auth("operator")).status_code == 409
    assert client.post("/api/edge/emergencies/em-424242/resolve", headers=auth("operator")).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"affected_devices": ["nope"]}, "affected_devices"),
        ({"affected_devices": []}, "affected_devices"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"type": ""}, "type"),
        ({"type": "   "}, "type"),
        ({"cluster_id": -1}, "cluster_id"),
        ({"cluster_id": 999}, "cluster_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_emergency_is_422_naming_the_field(client: TestClient, change: dict, field: str) -> None:
    request = {"type": "fire", "severity": "high", "affected_devices": ["dev-0001"], **change}
    response = client.post("/api/edge/emergency-coordination", json=request, headers=auth("operator"))
    assert response.status_code == 422
    assert field in loc_fields(response)


# --- devices: admin adds, operator publishes --------------------------------------------


def test_admin_adds_a_device_and_it_survives_a_restart(client: TestClient, store: _MemoryStore) -> None:
    device = {"device_id": "pump-7", "device_type": "controller", "sensor": "vibration", "x": 12.5, "y": 40.0}
    assert client.post("/api/edge/devices", json=device).status_code == 401
    assert client.post("/api/edge/devices", json=device, headers=auth("operator")).status_code == 403
    created = client.post("/api/edge/devices", json=device, headers=auth("admin"))
    assert created.status_code == 201
    body = created.json()
    assert body["source"] == "admin" and body["sensor"] == "vibration" and body["x"] == 12.5
    assert client.get("/api/edge/devices/pump-7").json()["device_id"] == "pump-7"
    assert client.get("/api/edge/devices").json()["total"] == 11
    assert client.post("/api/edge/devices", json=device, headers=auth("admin")).status_code == 409
    assert store.device("pump-7")["added_by"] == "test-admin"

    restarted = EdgeRuntime(devices=10, seed=1, alert_rules=TIGHT, store=store)
    with TestClient(make_app(restarted)) as again:
        restored = again.get("/api/edge/devices/pump-7").json()
        assert {k: restored[k] for k in ("device_type", "sensor", "x", "y", "cluster_id")} == {
            k: body[k] for k in ("device_type", "sensor", "x", "y", "cluster_id")
        }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sensor": "smell"}, "sensor"),
        ({"device_type": "toaster"}, "device_type"),
        ({"x": -1.0}, "x"),
        ({"y": 5000.0}, "y"),  # beyond the fleet's 1000 m area (runtime check)
        ({"device_id": "bad id"}, "device_id"),
        ({"device_id": ""}, "device_id"),
        ({"name": "n" * 101}, "name"),
    ],
)
def test_bad_device_is_422_naming_the_field(client: TestClient, change: dict, field: str) -> None:
    device = {"device_id": "ok-1", "sensor": "light", "x": 1.0, "y": 1.0, **change}
    response = client.post("/api/edge/devices", json=device, headers=auth("admin"))
    assert response.status_code == 422
    assert field in loc_fields(response)


def test_publish_roles_and_counters(client: TestClient, runtime: EdgeRuntime) -> None:
    path = "/api/devices/dev-0004/publish"
    assert client.post(path, json={"message": "hi"}).status_code == 401
    assert client.post(path, json={"message": "hi"}, headers=auth("viewer")).status_code == 403
    before = client.get("/api/devices/dev-0004/metrics").json()
    results = [client.post(path, json={"message": {"valve": i}}, headers=auth("operator")) for i in range(8)]
    assert all(r.status_code == 202 for r in results)
    after = client.get("/api/devices/dev-0004/metrics").json()
    assert after["sent"] == before["sent"] + 8
    assert after["sent"] == after["received"] + after["dropped"] + after["in_flight"]
    for e in (TICKS + 1, TICKS + 2):
        runtime.tick(e, e * 0.5)
    final = client.get("/api/devices/dev-0004/metrics").json()
    assert final["sent"] == final["received"] + final["dropped"] + final["in_flight"]
    delivered = {m["message_id"] for m in final["inbox"]}
    flying = {r.json()["message_id"] for r in results if r.json()["status"] == "in_flight"}
    assert flying and flying <= delivered
    for r in results:
        body = r.json()
        if body["status"] == "in_flight":
            assert math.isclose(body["due_t_s"], body["sent_t_s"] + body["latency_ms"] / 1000)
    assert (
        client.post("/api/devices/nope/publish", json={"message": "x"}, headers=auth("operator")).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": 5},
        {"message": ["a"]},
        {"message": "x" * 5000},
        {"message": {"k": "x" * 5000}},
        {"msg": "x"},
    ],
)
def test_bad_publish_is_422_naming_message(client: TestClient, body: dict) -> None:
    response = client.post("/api/devices/dev-0001/publish", json=body, headers=auth("operator"))
    assert response.status_code == 422
    assert {"message", "msg"} & loc_fields(response)
