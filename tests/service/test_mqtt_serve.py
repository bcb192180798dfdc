"""`edgeswarm serve --mqtt`: the edge fleet as MQTT clients of a real Mosquitto broker.

Each test starts its own broker (the service's embedded one, or one started here for
`mqtt://host:port`) on a free loopback port and stops it. Waits are bounded and poll a condition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from edgeswarm import net
from edgeswarm.cli import main
from edgeswarm.fleet.runtime import EdgeRuntime
from edgeswarm.mqtt import Broker, free_port
from edgeswarm.mqtt.faults import LinkFaults
from edgeswarm.service import Settings, create_app
from edgeswarm.service import app as app_module
from edgeswarm.service.app import mqtt_mode
from edgeswarm.service.mqtt_bridge import MqttBridge
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings, token_headers

WAIT_S = 10.0
DEVICES = 10


def wait_until(predicate: Callable[[], object], what: str) -> None:
    """Polls `predicate` until it holds, failing after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        time.sleep(0.02)


@pytest.fixture
def mqtt_client(tmp_path: Path) -> Iterator[TestClient]:
    """The service with an embedded broker (started and stopped by its lifespan)."""
    settings = make_settings(tmp_path / "service.db", mqtt="embedded", devices=DEVICES)
    with TestClient(create_app(settings)) as client:
        yield client


def offline_rows(client: TestClient) -> int:
    return client.get("/api/edge/devices", params={"online": False}).json()["total"]


# ---------------------------------------------------------------------------- the telemetry path


def test_the_runtime_consumes_the_readings_that_came_through_the_broker(mqtt_client: TestClient) -> None:
    client = mqtt_client
    app = client.app
    bridge = app.state.mqtt
    assert isinstance(bridge, MqttBridge) and app.state.mqtt_mode == "embedded"
    # The same fleet on the in-process path, ticked at the same times: it consumes each tick's
    # readings at once, the MQTT runtime one tick later, after they crossed the broker.
    twin = EdgeRuntime(app.state.settings)
    ticks = 4
    missing = 0
    for k in range(1, ticks + 1):
        row = app.state.swarm_loop.step()["data"]
        if k < ticks:  # devices offline at this tick published nothing: missing at the next one
            before = twin.summary()["readings"]["total"]
            twin.tick(row["epoch"], row["time_s"])
            steps = (twin.summary()["readings"]["total"] - before) // DEVICES
            missing += offline_rows(client) * steps
    summary = client.get("/api/status").json()["edge"]
    assert summary["link"]["transport"] == "mqtt"
    assert summary["link"]["telemetry_messages"]["delivered"] > 0
    assert summary["readings"]["missing"] == missing  # everything published arrived
    assert summary["readings"]["total"] == twin.summary()["readings"]["total"]
    mine = client.get("/api/edge/devices").json()["devices"]
    theirs = twin.devices()["devices"]
    for a, b in zip(mine, theirs, strict=True):  # bit for bit: JSON keeps the float
        assert a["last_value"] == b["last_value"] or (a["last_value"] is None and b["last_value"] is None)
    # Every device's readings were heard by the receiver as telemetry (seq 0 .. ticks-1 at most).
    metrics = client.get("/api/devices/dev-0000/metrics").json()
    assert metrics["transport"] == "mqtt"
    assert metrics["delivery"]["by_type"]["telemetry"]["received"] >= 1
    assert metrics["delivery"]["missing"] == 0
    assert metrics["device"]["sent"] >= metrics["delivery"]["by_type"]["telemetry"]["received"]


def test_a_reading_lost_on_the_mqtt_path_is_missing_in_the_runtime(tmp_path: Path) -> None:
    """Seeded loss on each device's send: the runtime misses exactly the readings whose message the
    device's fault model dropped (and those of devices offline at the publish)."""
    n = 12
    with Broker(tmp_path / "broker") as broker:
        bridge = MqttBridge(
            broker.host, broker.port, seed=3, faults=LinkFaults(send_loss=0.5), heartbeat_s=3600.0
        )
        runtime = EdgeRuntime(devices=n, seed=3, time_scale=1200.0, uplink=bridge)
        bridge.start()
        try:
            expected = 0
            delivered_rows = None
            for k in range(1, 7):
                before = [d.counters["sent"] for d in bridge.devices]
                missed_before = runtime.summary()["readings"]["missing"]
                total_before = runtime.summary()["readings"]["total"]
                values_before = [d["last_value"] for d in runtime.devices()["devices"]]
                runtime.tick(k, 0.5 * k)
                if delivered_rows is not None:  # this tick consumed the previous one's messages
                    steps = (runtime.summary()["readings"]["total"] - total_before) // n
                    expected += (n - len(delivered_rows)) * steps
                    now = runtime.devices()["devices"]
                    for row in range(n):
                        if row not in delivered_rows:  # its last value is the one it had
                            assert now[row]["last_value"] == values_before[row] or (
                                now[row]["last_value"] is None and values_before[row] is None
                            )
                    assert (
                        runtime.summary()["readings"]["missing"] - missed_before
                        == (n - len(delivered_rows)) * steps
                    )
                delivered_rows = {r for r, d in enumerate(bridge.devices) if d.counters["sent"] > before[r]}
            lost = sum(d.counters["dropped_send_loss"] for d in bridge.devices)
            assert lost > 0, "a 50 % loss over 60 messages dropped none: the fault model is not in the path"
            assert runtime.summary()["readings"]["missing"] == expected
            assert runtime.summary()["link"]["telemetry_messages"]["missing"] > 0
        finally:
            bridge.stop()


def test_telemetry_held_back_by_an_injected_delay_is_waited_for(tmp_path: Path) -> None:
    """A 150 ms injected delay on every send, ticks stepped back to back: the bridge waits (at most
    one epoch) for the delayed messages, so the runtime misses only what offline devices never sent."""
    n = 6
    with Broker(tmp_path / "broker") as broker:
        faults = LinkFaults(latency=net.LatencyModel.fixed(150.0))
        bridge = MqttBridge(broker.host, broker.port, seed=5, faults=faults, heartbeat_s=3600.0)
        runtime = EdgeRuntime(devices=n, seed=5, time_scale=1200.0, uplink=bridge)
        twin = EdgeRuntime(devices=n, seed=5, time_scale=1200.0)
        bridge.start()
        try:
            for k in range(1, 5):
                runtime.tick(k, 0.5 * k)
                if k < 4:
                    twin.tick(k, 0.5 * k)
            links = runtime.summary()["link"]["telemetry_messages"]
            assert links["missing"] == 0 and links["late"] == 0 and links["delivered"] > 0
            mine, theirs = runtime.devices()["devices"], twin.devices()["devices"]
            online = [d["online"] for d in mine]
            for a, b, on in zip(mine, theirs, online, strict=True):
                if on:
                    assert a["last_value"] == b["last_value"]
            latency = bridge.metrics(0)["delivery"]["latency_ms"]
            assert latency["p50"] >= 150.0  # the measured latency includes the injected delay
        finally:
            bridge.stop()


def test_a_failed_device_is_failed_never_online_and_its_readings_are_missing(mqtt_client: TestClient) -> None:
    client = mqtt_client
    app = client.app
    app.state.swarm_loop.step()
    app.state.mqtt.fail(app.state.edge.row_of("dev-0003"))
    for _ in range(3):
        app.state.swarm_loop.step()
        status = client.get("/api/devices/dev-0003/status").json()
        assert status["mqtt"]["status"] == "failed"
        assert status["online"] is False
    # Its telemetry went to its offline buffer, not through the broker.
    metrics = client.get("/api/devices/dev-0003/metrics").json()
    assert metrics["device"]["status"] == "failed"
    assert metrics["device"]["buffered"] >= 2
    other = client.get("/api/devices/dev-0004/status").json()
    assert other["mqtt"]["status"] == "online"
    # Recovered, it reconnects and flushes its buffer.
    app.state.mqtt.recover(app.state.edge.row_of("dev-0003"))
    wait_until(
        lambda: client.get("/api/devices/dev-0003/status").json()["mqtt"]["status"] == "online",
        "dev-0003 back online after recover()",
    )
    wait_until(
        lambda: client.get("/api/devices/dev-0003/metrics").json()["device"]["buffered"] == 0,
        "dev-0003's offline buffer flushed",
    )


def test_publish_reaches_the_device_inbox_through_the_broker(mqtt_client: TestClient) -> None:
    client = mqtt_client
    operator = token_headers(client, "olivia", "operator")
    sent = {"command": "calibrate", "offset": 0.25}
    response = client.post("/api/devices/dev-0002/publish", json={"message": sent}, headers=operator)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["transport"] == "mqtt" and body["status"] == "published"
    assert body["topic"] == "edgeswarm/edge/2/inbox"

    def inbox() -> list:
        return client.get("/api/devices/dev-0002/metrics").json()["device"]["inbox"]

    wait_until(inbox, "the message in dev-0002's inbox")
    metrics = client.get("/api/devices/dev-0002/metrics").json()["device"]
    assert metrics["inbox_received"] == 1
    assert inbox()[0]["body"]["message"] == sent
    # Only that device heard it.
    assert client.get("/api/devices/dev-0001/metrics").json()["device"]["inbox_received"] == 0
    # Publishing still needs an operator.
    viewer = token_headers(client, "victor", "viewer")
    assert (
        client.post("/api/devices/dev-0002/publish", json={"message": "x"}, headers=viewer).status_code == 403
    )


def test_the_broker_route_gives_sys_figures(mqtt_client: TestClient) -> None:
    client = mqtt_client
    for _ in range(3):
        client.app.state.swarm_loop.step()
    # Devices, the receiver and the $SYS reader: DEVICES + 2 clients.
    wait_until(
        lambda: (client.get("/api/broker").json()["sys"] or {}).get("clients_connected") == DEVICES + 2,
        "$SYS/broker/clients/connected == devices + 2",
    )
    wait_until(
        lambda: (client.get("/api/broker").json()["sys"]["messages_received"] or 0) >= 2 * DEVICES,
        "$SYS/broker/publish/messages/received counts the telemetry",
    )
    state = client.get("/api/broker").json()
    assert state["mode"] == "embedded" and state["url"].startswith("mqtt://127.0.0.1:")
    assert state["sys"]["version"].startswith("mosquitto version")
    assert state["sys"]["dropped"] == 0
    assert state["devices"] == {"online": DEVICES}
    assert state["receiver"]["received"] >= 2 * DEVICES


def test_a_device_added_in_mqtt_mode_becomes_an_mqtt_device_with_its_own_broker_user(
    mqtt_client: TestClient,
) -> None:
    client = mqtt_client
    admin = token_headers(client, "admin", "admin")
    body = {"device_id": "new-1", "device_type": "sensor", "sensor": "temperature", "x": 1.0, "y": 2.0}
    assert client.post("/api/edge/devices", json=body, headers=admin).status_code == 201
    bridge = client.app.state.mqtt
    assert bridge.n == DEVICES + 1  # row 10, user "10" on the broker, which refuses anonymous clients
    wait_until(lambda: client.get("/api/devices/new-1/status").json()["mqtt"]["status"] == "online", "online")
    for _ in range(3):
        client.app.state.swarm_loop.step()
    metrics = client.get("/api/devices/new-1/metrics").json()
    assert metrics["transport"] == "mqtt" and metrics["device"]["refused"] == 0
    assert metrics["device"]["connects"] == 1
    wait_until(
        lambda: (
            client.get("/api/devices/new-1/metrics")
            .json()["delivery"]["by_type"]
            .get("telemetry", {})
            .get("received", 0)
            >= 1
        ),
        "the new device's telemetry through the broker",
    )


def test_an_existing_broker_by_url(tmp_path: Path) -> None:
    with Broker(tmp_path / "broker") as broker:
        settings = make_settings(tmp_path / "service.db", mqtt=f"mqtt://127.0.0.1:{broker.port}", devices=4)
        with TestClient(create_app(settings)) as client:
            for _ in range(3):
                client.app.state.swarm_loop.step()
            state = client.get("/api/broker").json()
            assert state["mode"] == f"mqtt://127.0.0.1:{broker.port}"
            assert state["devices"] == {"online": 4}
            summary = client.get("/api/status").json()["edge"]
            assert summary["link"]["telemetry_messages"]["delivered"] >= 2 * (4 - offline_rows(client))
        assert not broker.log_path.read_text().count("exceeded timeout")  # clean disconnects at stop
        log = broker.log_path.read_text()
        assert "edgeswarm-edge-receiver" in log


def test_an_unreachable_broker_leaves_the_swarm_served_and_says_why(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = make_settings(tmp_path / "service.db", mqtt=f"mqtt://127.0.0.1:{port}", devices=3)
    with TestClient(create_app(settings)) as client:
        client.app.state.swarm_loop.step()
        status = client.get("/api/status").json()
        assert status["epoch"] == 1
        assert status["edge"]["loaded"] is False
        assert status["edge"]["error"].startswith(
            f"RuntimeError: mqtt: cannot connect to the broker at mqtt://127.0.0.1:{port}: "
        )
        broker = client.get("/api/broker").json()
        assert broker["mode"] == f"mqtt://127.0.0.1:{port}" and broker["sys"] is None
        assert broker["error"] == status["edge"]["error"]
        assert client.get("/api/edge/analytics").status_code == 503


# ---------------------------------------------------------------------------- modes and bad values


def test_off_keeps_the_simulated_link(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "service.db", mqtt="off"))) as client:
        client.app.state.swarm_loop.step()
        assert client.app.state.mqtt is None
        assert client.get("/api/broker").json() == {
            "mode": "off",
            "error": None,
            "url": None,
            "sys": None,
            "devices": None,
            "receiver": None,
        }
        metrics = client.get("/api/devices/dev-0000/metrics").json()
        assert "transport" not in metrics and "in_flight" in metrics
        assert "missing" not in client.get("/api/status").json()["edge"]["readings"]


def test_unset_is_embedded_when_mosquitto_is_installed_else_off_with_one_line(monkeypatch, caplog) -> None:
    assert mqtt_mode(Settings(mqtt=None)) == "embedded"

    def missing() -> None:
        raise app_module.BrokerError(
            "mosquitto is not installed: install the Debian package (apt-get install mosquitto)"
        )

    monkeypatch.setattr(app_module, "find_mosquitto", missing)
    with caplog.at_level(logging.INFO, logger="edgeswarm.service"):
        assert mqtt_mode(Settings(mqtt=None)) == "off"
    lines = [r.getMessage() for r in caplog.records if "mqtt" in r.getMessage()]
    expected = (
        "mqtt: off (the in-process link), because mosquitto is not installed: install the Debian package"
    )
    assert lines == [f"{expected} (apt-get install mosquitto)"]
    assert mqtt_mode(Settings(mqtt="off")) == "off"  # an explicit setting is never second-guessed


@pytest.mark.parametrize(
    "bad", ["bogus", "mqtt://host", "mqtt://host:0", "mqtt://host:70000", "tcp://h:1", "", "mqtts://h:8883"]
)
def test_bad_mqtt_values_are_refused_naming_what_is_allowed(bad: str, capsys) -> None:
    with pytest.raises(ValueError, match="allowed off, embedded or mqtt://host:port"):
        Settings(mqtt=bad)
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--mqtt", bad, "--db", "/tmp/never-used.db"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --mqtt: mqtt: {bad!r} is not allowed; allowed off, embedded or mqtt://host:port" in err


def test_explicit_embedded_without_mosquitto_is_refused_before_serving(monkeypatch, capsys, tmp_path) -> None:
    import edgeswarm.mqtt

    def missing() -> None:
        raise edgeswarm.mqtt.MosquittoNotFoundError("mosquitto is not installed: apt-get install mosquitto")

    monkeypatch.setattr(edgeswarm.mqtt, "find_mosquitto", missing)
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--mqtt", "embedded", "--db", str(tmp_path / "x.db")])
    assert stop.value.code == 2
    out = capsys.readouterr()
    assert (
        "argument --mqtt (or EDGESWARM_MQTT): embedded needs a broker: mosquitto is not installed" in out.err
    )
    assert out.out == ""


def test_the_readings_uplink_arrays_keep_their_shape(tmp_path: Path) -> None:
    """What the runtime gets for a batch nobody published: all missing, NaN, the asked shape."""
    with Broker(tmp_path / "broker") as broker:
        bridge = MqttBridge(broker.host, broker.port)
        bridge.grow(3)
        bridge.start()
        try:
            values, arrived = bridge.delivered_readings(0, 5, 3)
            assert values.shape == (3, 5) and np.isnan(values).all() and not arrived.any()
        finally:
            bridge.stop()


def test_the_dashboard_panel_reads_fields_the_broker_route_sends(mqtt_client: TestClient) -> None:
    import re

    page = mqtt_client.get("/").text
    assert 'id="broker-figures"' in page and 'id="broker-note"' in page
    script = mqtt_client.get("/static/broker_panel.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    wait_until(lambda: mqtt_client.get("/api/broker").json()["sys"]["updated_at"], "a first $SYS message")
    state = mqtt_client.get("/api/broker").json()
    used = set(re.findall(r"\bsys\.(\w+)", script.text))
    assert {"clients_connected", "received_per_s", "sent_per_s", "dropped"} <= used
    assert used <= set(state["sys"]), (
        f"the panel reads fields the route does not send: {used - set(state['sys'])}"
    )
    assert set(re.findall(r"\bstate\.(\w+)", script.text)) <= set(state)


def test_each_device_has_its_own_broker_password(mqtt_client: TestClient) -> None:
    """A device's password is derived for it alone: with device 3's password, user "4" is refused."""
    import paho.mqtt.client as mqtt

    bridge = mqtt_client.app.state.mqtt
    three, four = bridge._password_of(3), bridge._password_of(4)
    assert three and four and three != four
    answers: list[object] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="impostor")
    client.username_pw_set("4", three)
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(reason)
    client.connect(bridge.host, bridge.port)
    client.loop_start()
    try:
        wait_until(lambda: answers, "the CONNACK")
        assert answers[0].is_failure
    finally:
        client.loop_stop()
        client.disconnect()
