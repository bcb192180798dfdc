"""The /api/edge/* and /api/devices/* endpoints of the real app, through FastAPI's TestClient."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import edgeswarm as es
import pytest
from edgeswarm.fleet.runtime import EdgeRuntime
from edgeswarm.ml.registry import EDGE_DETECTORS
from edgeswarm.service import Settings, create_app
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings, token_headers

# Tight limits, so that 10 devices of seed 1 raise critical alerts and emergencies at once.
TIGHT = es.fleet.AlertRules(
    temperature_low=20.0, temperature_high=26.0, humidity_low=40.0, humidity_high=60.0, vibration_high=0.5
)
TICKS = 12  # by then seed 1 has committed emergencies raised from critical alerts


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "service.db", devices=10, seed=1, nodes=20)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with its edge runtime swapped for one with TIGHT rules, stepped TICKS epochs."""
    app = create_app(settings)
    with TestClient(app) as test_client:
        assert isinstance(app.state.edge, EdgeRuntime)  # the app loads the runtime itself
        runtime = EdgeRuntime(settings, app.state.store, app.state.hub.publish, alert_rules=TIGHT)
        app.state.edge = app.state.swarm_loop.edge = runtime
        for _ in range(TICKS):
            app.state.swarm_loop.step()
        yield test_client


@pytest.fixture
def runtime(client: TestClient) -> EdgeRuntime:
    return client.app.state.edge


def step(client: TestClient, epochs: int = 1) -> None:
    for _ in range(epochs):
        client.app.state.swarm_loop.step()


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
        assert c["head"] == c["members"][0] and c["leader"] in c["members"]
        detail = client.get(f"/api/edge/clusters/{c['cluster_id']}")
        assert detail.status_code == 200
        body = detail.json()
        assert len(body["devices"]) == c["size"] and {d["cluster_id"] for d in body["devices"]} == {
            c["cluster_id"]
        }
        assert body["raft"]["up"] and body["head"] == c["head"] and body["leader"] == c["leader"]
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
    assert [m["model"] for m in body["models"]] == sorted(EDGE_DETECTORS)  # the default models, by name
    for m in body["models"]:
        assert m["calls"] == TICKS and m["inferences"] + m["invalid"] > 0
        assert m["tp"] + m["fp"] + m["tn"] + m["fn"] == m["labelled"]
        assert m["mean_ns_per_sample"] > 0 and m["samples"] == m["inferences"] + m["invalid"]


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


def test_operator_raises_and_resolves_an_emergency(client: TestClient, viewer: dict, operator: dict) -> None:
    request = {
        "type": "fire",
        "severity": "high",
        "affected_devices": ["dev-0001", "dev-0002"],
        "action": "evacuate",
    }
    assert client.post("/api/edge/emergency-coordination", json=request).status_code == 401
    assert client.post("/api/edge/emergency-coordination", json=request, headers=viewer).status_code == 403
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        response = client.post("/api/edge/emergency-coordination", json=request, headers=operator)
        assert response.status_code == 202
        record = response.json()
        assert record["status"] == "proposed" and record["reported_by"] == "olivia"
        # Broadcast at once through the hub, then committed by Raft within the next epoch.
        assert ws.receive_json() == {"type": "emergency", "data": record}
    step(client)
    listed = {e["id"]: e for e in client.get("/api/edge/emergencies").json()["emergencies"]}
    assert listed[record["id"]]["status"] == "committed"
    path = f"/api/edge/emergencies/{record['id']}/resolve"
    assert client.post(path).status_code == 401
    assert client.post(path, headers=viewer).status_code == 403
    resolved = client.post(path, headers=operator)
    assert resolved.status_code == 200 and resolved.json()["resolved"] is True
    assert client.post(path, headers=operator).status_code == 409
    assert client.post("/api/edge/emergencies/em-424242/resolve", headers=operator).status_code == 404
    audit = client.get("/api/audit", headers=token_headers(client, "admin", "admin")).json()
    paths = {row["path"] for row in audit}
    assert {"/api/edge/emergency-coordination", path} <= paths


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
def test_bad_emergency_is_422_naming_the_field(
    client: TestClient, operator: dict, change: dict, field: str
) -> None:
    request = {"type": "fire", "severity": "high", "affected_devices": ["dev-0001"], **change}
    response = client.post("/api/edge/emergency-coordination", json=request, headers=operator)
    assert response.status_code == 422
    assert field in loc_fields(response)


# --- devices: admin adds, operator publishes --------------------------------------------


def test_admin_adds_a_device_and_it_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "restart.db", devices=10, seed=1, nodes=20)
    device = {"device_id": "pump-7", "device_type": "controller", "sensor": "vibration", "x": 12.5, "y": 40.0}
    with TestClient(create_app(settings)) as client:
        admin = token_headers(client, "admin", "admin")
        operator = token_headers(client, "olivia", "operator")
        assert client.get("/api/status").json()["edge"]["devices"]["total"] == 10
        assert client.post("/api/edge/devices", json=device).status_code == 401
        assert client.post("/api/edge/devices", json=device, headers=operator).status_code == 403
        created = client.post("/api/edge/devices", json=device, headers=admin)
        assert created.status_code == 201
        body = created.json()
        assert body["source"] == "admin" and body["sensor"] == "vibration" and body["x"] == 12.5
        assert client.get("/api/edge/devices/pump-7").json()["device_id"] == "pump-7"
        assert client.get("/api/edge/devices").json()["total"] == 11
        # the status summary is cached between state changes: adding a device must refresh it
        assert client.get("/api/status").json()["edge"]["devices"]["total"] == 11
        assert client.post("/api/edge/devices", json=device, headers=admin).status_code == 409
        assert client.app.state.store.device("pump-7")["added_by"] == "admin"
        step(client, 2)
        models = client.get("/api/edge/devices/pump-7/ml-models").json()["models"]
        assert models and all(m["calls"] == 2 for m in models)
        fire = {"type": "fire", "severity": "high", "affected_devices": ["pump-7"]}
        raised = client.post("/api/edge/emergency-coordination", json=fire, headers=operator).json()
        step(client)
        before = client.get("/api/edge/emergencies").json()

    with TestClient(create_app(settings)) as again:  # a new process on the same database file
        restored = again.get("/api/edge/devices/pump-7").json()
        assert {k: restored[k] for k in ("device_type", "sensor", "x", "y", "cluster_id")} == {
            k: body[k] for k in ("device_type", "sensor", "x", "y", "cluster_id")
        }
        assert again.get("/api/edge/devices").json()["total"] == 11
        after = again.get("/api/edge/emergencies").json()
        assert after == before and after["emergencies"][0]["id"] == raised["id"]
        assert after["emergencies"][0]["status"] == "committed"


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
def test_bad_device_is_422_naming_the_field(
    client: TestClient, admin: dict, change: dict, field: str
) -> None:
    device = {"device_id": "ok-1", "sensor": "light", "x": 1.0, "y": 1.0, **change}
    response = client.post("/api/edge/devices", json=device, headers=admin)
    assert response.status_code == 422
    assert field in loc_fields(response)


def test_publish_roles_and_counters(client: TestClient, viewer: dict, operator: dict) -> None:
    path = "/api/devices/dev-0004/publish"
    assert client.post(path, json={"message": "hi"}).status_code == 401
    assert client.post(path, json={"message": "hi"}, headers=viewer).status_code == 403
    before = client.get("/api/devices/dev-0004/metrics").json()
    results = [client.post(path, json={"message": {"valve": i}}, headers=operator) for i in range(8)]
    assert all(r.status_code == 202 for r in results)
    after = client.get("/api/devices/dev-0004/metrics").json()
    assert after["sent"] == before["sent"] + 8
    assert after["sent"] == after["received"] + after["dropped"] + after["in_flight"]
    step(client, 2)
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
        client.post("/api/devices/nope/publish", json={"message": "x"}, headers=operator).status_code == 404
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
def test_bad_publish_is_422_naming_message(client: TestClient, operator: dict, body: dict) -> None:
    response = client.post("/api/devices/dev-0001/publish", json=body, headers=operator)
    assert response.status_code == 422
    assert {"message", "msg"} & loc_fields(response)


def test_each_epoch_streams_the_edge_messages(client: TestClient, runtime: EdgeRuntime) -> None:
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        step(client)
        assert ws.receive_json()["type"] == "epoch"
        messages = []
        while not messages or messages[-1]["type"] != "edge":
            messages.append(ws.receive_json())
    assert {m["type"] for m in messages} <= {"alert", "emergency", "edge"}
    summary = messages[-1]["data"]
    assert summary["epoch"] == TICKS + 1 and summary == runtime.summary()
    assert client.get("/api/status").json()["edge"] == {"loaded": True, **summary}


def test_one_emergency_status_vocabulary_in_runtime_api_and_dashboard(client: TestClient) -> None:
    """The summary counts, the REST filter and the dashboard's panel use EMERGENCY_STATUSES."""
    from edgeswarm.fleet.emergency import EMERGENCY_STATUSES

    summary = client.get("/api/edge/analytics").json()["emergencies"]
    assert set(EMERGENCY_STATUSES) <= set(summary)
    assert summary["total"] == sum(summary[s] for s in EMERGENCY_STATUSES)
    for s in EMERGENCY_STATUSES:
        assert client.get("/api/edge/emergencies", params={"status": s}).status_code == 200
    panels = (Path(es.__file__).parent / "service" / "static" / "edge_panels.js").read_text()
    (listed,) = re.findall(r"const EMERGENCY_STATUSES = \[([^\]]*)\]", panels)
    assert tuple(re.findall(r'"([a-z]+)"', listed)) == EMERGENCY_STATUSES
