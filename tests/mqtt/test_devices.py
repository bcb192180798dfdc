"""Device agents on a real Mosquitto: delivery per QoS, status and will, offline buffer, sessions,
seeded faults reproduced at the receiver, reconnect after a broker restart.

Each test runs one asyncio scenario; every wait is a bounded wait on a condition (`until`)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import pytest
from edgeswarm import net
from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import DeviceOptions, MqttDevice, device_topic
from edgeswarm.mqtt.device_fleet import MqttFleet, parse_shard, shard_range
from edgeswarm.mqtt.faults import FailureSchedule, LinkFaults
from edgeswarm.mqtt.receiver import Receiver
from scipy import stats

WAIT_S = 10.0
MOSQUITTO_KEEPALIVE_CHECK_S = 5.0  # mosquitto 2.0 (src/keepalive.c) looks at keepalives every 5 s


async def until(predicate: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> float:
    """Waits until ``predicate()`` holds; returns the loop time it did; fails after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.005)
    return loop.time()


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


class Rig:
    """A client loop, a receiver and a fleet on one broker."""

    def __init__(self, broker: Broker, *, devices: int, fleet: str = "f", **options: Any) -> None:
        failures = options.pop("failures", None)
        self.loop = ClientLoop()
        self.records: list[dict[str, Any]] = []
        self.receiver = Receiver(
            self.loop, broker.host, broker.port, fleet=fleet, on_record=self.records.append
        )
        self.options = DeviceOptions(fleet=fleet, **options)
        self.fleet = MqttFleet(
            broker.host,
            broker.port,
            total=devices,
            options=self.options,
            client_loop=self.loop,
            failures=failures,
        )

    async def start(self, **kwargs: Any) -> None:
        self.receiver.start()
        await until(lambda: self.receiver.connected, "the receiver to connect")
        await asyncio.sleep(0.05)  # let the SUBACK come back before the first device publishes
        self.fleet.start(**kwargs)
        await until(lambda: self.fleet.statuses().get("online") == self.fleet.count, "every device online")

    def produced(self) -> int:
        return self.fleet.totals()["produced"]

    async def stop(self) -> None:
        self.fleet.stop()
        self.receiver.stop()
        assert await self.loop.drain(), "every connection closed"
        self.loop.close()


def data_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["order"] != "duplicate"]


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_every_message_is_delivered_at_each_qos(broker: Broker, qos: int) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=5, qos=qos, telemetry_s=0.05, heartbeat_s=0.2)
        await rig.start()
        await asyncio.sleep(1.0)  # the workload: 20 telemetry and 5 heartbeats per device
        rig.fleet.stop()
        produced = rig.produced()
        await until(lambda: rig.receiver.totals()["received"] >= produced, "every message")
        totals = rig.receiver.totals()
        assert produced >= 5 * 20
        assert totals["received"] == produced
        assert totals["missing"] == 0 and totals["duplicates"] == 0
        assert {r["qos"] for r in rig.records} == {qos}
        assert rig.fleet.totals()["acked"] == produced
        await rig.stop()

    run(scenario)


def test_telemetry_carries_the_fleet_sensor_models(broker: Broker) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=3, telemetry_s=0.05, seed=7)
        bodies: list[dict[str, Any]] = []
        rig.receiver.client.message_callback_add(
            "edgeswarm/f/+/telemetry", lambda _c, _u, m: bodies.append(json.loads(m.payload))
        )
        await rig.start()
        await until(lambda: len(bodies) >= 9, "three readings per device")
        await rig.stop()
        expected = rig.fleet.sensors.readings(3, dt_s=0.05, t0_s=0.0).values
        for body in bodies:
            k = round(body["t_s"] / 0.05)
            if k < 3:
                assert body["value"] == expected[int(body["device"]), k]
                assert body["seq"] == k
        assert {"sensor", "unit", "value", "seq", "sent_at", "device"} <= set(bodies[0])

    run(scenario)


def test_retained_status_online_then_offline_on_a_clean_stop(broker: Broker, peers) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=2)
        await rig.start()
        watcher = peers(broker, "watcher")
        watcher.connect()
        watcher.subscribe(device_topic("f", "+", "status"), 1)  # the broker answers: no device is needed
        await until(lambda: len(watcher.messages) >= 2, "both retained statuses")
        online = [json.loads(m.payload) for m in watcher.messages]
        assert all(m.retain for m in watcher.messages)
        assert {(b["device"], b["status"]) for b in online} == {("0", "online"), ("1", "online")}
        rig.fleet.stop()
        await until(lambda: len(watcher.messages) >= 4, "both offline statuses")
        after = [json.loads(m.payload) for m in watcher.messages[2:]]
        assert {(b["status"], b["reason"]) for b in after} == {("offline", "stopped")}
        await rig.stop()

    run(scenario)


def test_a_failed_device_is_never_online_and_its_will_comes_within_one_and_a_half_keepalives(
    broker: Broker,
) -> None:
    keepalive = 1

    async def scenario() -> None:
        rig = Rig(broker, devices=2, keepalive_s=keepalive, telemetry_s=0.1)
        await rig.start()
        loop = asyncio.get_running_loop()
        device = rig.fleet.devices["1"]
        failed_at = loop.time()
        device.fail()
        statuses = []

        def will_arrived() -> bool:
            statuses.append(device.status)
            return rig.receiver.totals()["wills"] == 1

        will_at = await until(will_arrived, "the will", timeout_s=1.5 * keepalive + 8)
        assert set(statuses) == {"failed"}
        assert rig.fleet.devices["0"].status == "online"
        # The broker waits out 1.5 keepalives of silence after the last packet (a telemetry message at
        # most 0.1 s before the failure); Mosquitto 2.0 checks keepalives every 5 s.
        assert (
            1.5 * keepalive - 0.2
            <= will_at - failed_at
            <= 1.5 * keepalive + MOSQUITTO_KEEPALIVE_CHECK_S + 0.5
        )
        assert rig.receiver.metrics("1")["broker_status"] == "offline"
        device.recover()
        await until(lambda: device.status == "online", "the device back online")
        await until(lambda: rig.receiver.metrics("1")["broker_status"] == "online", "retained online again")
        assert device.counters["failures"] == 1
        await rig.stop()

    run(scenario)


def test_offline_buffer_drops_oldest_and_flushes_on_recovery(broker: Broker) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=1, buffer_capacity=5, telemetry_s=0.05, heartbeat_s=100.0)
        await rig.start()
        device = rig.fleet.devices["0"]
        initial_flush = device.buffer.flushed
        device.fail()
        produced_before = device.counters["produced"]
        await until(lambda: device.counters["produced"] >= produced_before + 12, "12 messages while failed")
        held = device.counters["produced"] - produced_before
        assert len(device.buffer) == 5 and device.buffer.utilisation == 1.0
        assert device.counters["dropped_buffer_full"] == held - 5
        device.recover()
        # Messages produced before the first CONNACK were buffered and flushed too: look after them.
        after = lambda: [r for r in rig.records if r["type"] == "telemetry" and r["flushed"] and r["seq"] > 0]
        await until(lambda: len(after()) == 5, "five flushed messages")
        flushed = [r["seq"] for r in after()]
        newest = max(r["seq"] for r in rig.records if r["type"] == "telemetry" and r["seq"] < min(flushed))
        assert flushed == sorted(flushed) and min(flushed) - newest - 1 == held - 5  # the oldest were dropped
        assert device.metrics()["flushed"] == 5 + initial_flush
        assert rig.receiver.metrics("0")["missing"] == held - 5
        await rig.stop()

    run(scenario)


@pytest.mark.parametrize("clean_session", [False, True])
def test_a_persistent_session_gets_the_inbox_messages_sent_while_it_was_away(
    broker: Broker, peers, clean_session: bool
) -> None:
    async def scenario() -> None:
        rig = Rig(
            broker, devices=1, keepalive_s=1, clean_session=clean_session, heartbeat_s=100.0, telemetry_s=0
        )
        await rig.start()
        device = rig.fleet.devices["0"]
        device.fail()
        await until(lambda: rig.receiver.totals()["wills"] == 1, "the broker to drop the device")
        sender = peers(broker, "operator")
        sender.connect()
        for k in range(3):
            sender.publish(device_topic("f", "0", "inbox"), json.dumps({"command": k}).encode(), qos=1)
        device.recover()
        await until(lambda: device.status == "online" and device.inbox_subscribed, "the device back")
        if clean_session:
            sender.publish(device_topic("f", "0", "inbox"), json.dumps({"command": "after"}).encode(), qos=1)
            await until(lambda: device.counters["inbox_received"] >= 1, "the message sent after")
            assert [m["body"]["command"] for m in device.inbox] == ["after"]
        else:
            await until(lambda: device.counters["inbox_received"] >= 3, "the queued inbox messages")
            assert [m["body"]["command"] for m in device.inbox] == [0, 1, 2]
        await rig.stop()

    run(scenario)


def test_bad_credentials_are_refused_and_counted_never_online(tmp_path) -> None:
    async def scenario(b: Broker) -> None:
        loop = ClientLoop()
        good = MqttDevice(0, DeviceOptions(fleet="f", password="pw-0"), loop, b.host, b.port)
        bad = MqttDevice(
            1, DeviceOptions(fleet="f", password="wrong", backoff_base_s=0.05), loop, b.host, b.port
        )
        good.start()
        bad.start()
        await until(lambda: good.status == "online" and bad.counters["refused"] >= 2, "a refusal and a retry")
        assert bad.status == "reconnecting" and bad.counters["connects"] == 0
        good.stop()
        bad.stop()
        assert await loop.drain()
        loop.close()

    with Broker(tmp_path, users={"0": "pw-0", "1": "pw-1"}) as b:
        asyncio.run(scenario(b))


def test_send_loss_matches_the_seeded_fates_message_for_message(broker: Broker) -> None:
    faults = LinkFaults(send_loss=0.3)

    async def scenario() -> None:
        rig = Rig(broker, devices=4, qos=1, telemetry_s=0.02, heartbeat_s=100.0, faults=faults, seed=11)
        await rig.start()
        await until(lambda: rig.fleet.totals()["produced"] >= 4 * 60, "60 messages per device")
        rig.fleet.stop()
        await until(
            lambda: rig.receiver.totals()["received"] == rig.fleet.totals()["sent"],
            "everything sent to arrive",
        )
        totals = rig.fleet.totals()
        for index, device in rig.fleet.devices.items():
            # Message k of the device has the fate LinkFaults draws for (seed, device, k): the
            # receiver gets exactly the survivors among the messages the device produced.
            fates = faults.send_fates(device.counters["produced"], seed=11, device=int(index))
            survivors = int((~fates.lost).sum())
            assert sum(r["device"] == index for r in rig.records) == survivors == device.counters["sent"]
        ratio = rig.receiver.totals()["received"] / totals["produced"]
        n = totals["produced"]
        assert abs(ratio - 0.7) <= 4 * np.sqrt(0.7 * 0.3 / n)
        await rig.stop()

    run(scenario)


def test_duplicates_and_reordering_are_detected(broker: Broker) -> None:
    faults = LinkFaults(duplicate=0.2, reorder=0.3, reorder_delay=net.LatencyModel.uniform(60.0, 120.0))

    async def scenario() -> None:
        rig = Rig(broker, devices=3, telemetry_s=0.02, heartbeat_s=100.0, faults=faults, seed=5)
        await rig.start()
        await until(lambda: rig.fleet.totals()["produced"] >= 3 * 50, "50 messages per device")
        rig.fleet.stop()
        await until(lambda: rig.fleet.totals()["in_delay"] == 0, "the delayed copies")
        sent = rig.fleet.totals()["sent"]
        await until(
            lambda: rig.receiver.totals()["received"] + rig.receiver.totals()["duplicates"] == sent, "all"
        )
        totals, fleet = rig.receiver.totals(), rig.fleet.totals()
        # Every extra copy the device made arrived as a duplicate, but for those still delayed at the stop.
        assert (
            0 < totals["duplicates"] <= fleet["duplicated"] <= totals["duplicates"] + fleet["dropped_stopped"]
        )
        assert totals["reordered"] > 0 and totals["missing"] <= fleet["dropped_stopped"]
        await rig.stop()

    run(scenario)


def test_injected_latency_is_in_the_measured_distribution(broker: Broker) -> None:
    model = net.LatencyModel.uniform(10.0, 60.0)
    faults = LinkFaults(latency=model)

    async def scenario() -> None:
        rig = Rig(broker, devices=10, telemetry_s=0.05, heartbeat_s=100.0, faults=faults, seed=3)
        await rig.start()
        await until(lambda: len(rig.records) >= 400, "400 messages")
        await rig.stop()
        measured = np.array([r["latency_ms"] for r in data_records(rig.records)])
        injected = np.array(faults.send_fates(4000, seed=99, device=0).delay_us) / 1000.0
        # The path adds about a millisecond on loopback; the two-sample test must not tell them apart.
        assert stats.ks_2samp(measured, injected).pvalue > 1e-3
        assert measured.min() >= 10.0 and np.median(measured) == pytest.approx(35.0, abs=5.0)

    run(scenario)


@pytest.mark.parametrize("how", ["restart", "kill"])
def test_devices_reconnect_after_the_broker_goes_away_and_nothing_acknowledged_is_lost(
    tmp_path, how: str
) -> None:
    async def scenario(b: Broker) -> None:
        rig = Rig(
            b, devices=5, qos=1, telemetry_s=0.05, heartbeat_s=100.0, backoff_base_s=0.1, backoff_cap_s=0.5
        )
        await rig.start()
        await until(lambda: rig.receiver.totals()["received"] >= 50, "traffic before the outage")
        saved = b.run_dir / "persistence" / "mosquitto.db"  # the first autosave, after the subscription
        await until(saved.exists, "the broker to save its sessions")
        flushed_before = sum(d.buffer.flushed for d in rig.fleet.devices.values())
        if how == "restart":
            b.restart()  # SIGTERM: mosquitto saves the sessions; the same port comes back
        else:
            os.kill(b.pid, signal.SIGKILL)  # no goodbye, no last save
            await until(lambda: rig.fleet.statuses().get("reconnecting") == 5, "every device to notice")
            await asyncio.sleep(0.3)  # devices produce into their buffers while the broker is away
            b.stop()
            b.start()
        await until(lambda: rig.fleet.totals()["connection_losses"] >= 5, "every device to notice")
        await until(lambda: rig.fleet.statuses().get("online") == 5, "every device back", timeout_s=15)
        await until(lambda: rig.receiver.connected, "the receiver back")
        await asyncio.sleep(0.5)  # traffic after the outage
        rig.fleet.stop()
        produced = rig.fleet.totals()["produced"]
        await until(lambda: rig.receiver.totals()["received"] >= produced, "every message", timeout_s=15)
        assert rig.receiver.totals()["missing"] == 0
        assert rig.fleet.totals()["dropped_buffer_full"] == 0
        assert rig.receiver.connection_losses == 1
        if how == "kill":
            assert sum(d.buffer.flushed for d in rig.fleet.devices.values()) > flushed_before
        await rig.stop()

    with Broker(tmp_path, autosave_interval=1) as b:
        asyncio.run(scenario(b))


def test_failures_follow_the_seeded_schedule(broker: Broker) -> None:
    schedule = FailureSchedule(fail_prob=0.5, fail_every_s=0.4, fail_duration_s=0.3)

    async def scenario() -> None:
        rig = Rig(broker, devices=6, telemetry_s=0.1, keepalive_s=5, failures=schedule, seed=2)
        await rig.start(horizon_s=1.5)
        await asyncio.sleep(1.7)  # the planned horizon and the last recovery
        plan = schedule.fleet(range(6), seed=2, horizon_s=1.5)
        failed = [e for e in rig.fleet.events if e["event"] == "failed"]
        assert len(plan) > 0 and len(failed) == len(plan)
        assert sorted(int(e["device"]) for e in failed) == sorted(plan.device.tolist())
        for event in failed:
            starts = plan.start_s[plan.device == int(event["device"])]
            assert np.min(np.abs(starts - event["t_s"])) < 0.2
        await rig.stop()

    run(scenario)


def test_shards_cover_the_fleet_once() -> None:
    total = 10_001
    ranges = [shard_range(total, i, 4) for i in range(4)]
    assert [r.start for r in ranges[1:]] == [r.stop for r in ranges[:-1]]
    assert ranges[0].start == 0 and ranges[-1].stop == total
    assert max(len(r) for r in ranges) - min(len(r) for r in ranges) <= 1
    assert parse_shard("2/4") == (2, 4)
    assert parse_shard("auto/3", hostname="devices-2") == (2, 3)
    for text, message in [("4/4", "out of range"), ("x/2", "I/N"), ("auto/2", "hostname")]:
        with pytest.raises(ValueError, match=message):
            parse_shard(text, hostname="devices")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"qos": 3}, "qos"),
        ({"fleet": "a/b"}, "fleet"),
        ({"heartbeat_s": 0}, "heartbeat_s"),
        ({"keepalive_s": 0}, "keepalive_s"),
        ({"buffer_capacity": -1}, "buffer_capacity"),
        ({"telemetry_s": -1.0}, "telemetry_s"),
    ],
)
def test_bad_device_options_name_the_parameter(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeviceOptions(**options)


def test_memory_and_time_stay_bounded_per_message(broker: Broker) -> None:
    """The receiver keeps a bounded window per device however long the run."""

    async def scenario() -> None:
        rig = Rig(broker, devices=1, telemetry_s=0.002, heartbeat_s=100.0)
        await rig.start()
        await until(lambda: rig.receiver.totals()["received"] >= 1500, "1,500 messages")
        await rig.stop()
        state = rig.receiver.devices["0"]
        assert len(state.window) == 1000 and state.latency_count >= 1500
        assert len(state.last) == 10

    run(scenario)


def test_a_clean_stop_disconnects_once_its_offline_status_is_acknowledged(broker: Broker) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=3, telemetry_s=0.05)
        await rig.start()
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        rig.fleet.stop()
        closed_at = await until(
            lambda: rig.loop.serviced() == 1, "the devices' connections closed"
        )  # receiver's
        assert closed_at - stopped_at < 1.0  # not the 2 s fallback: the acknowledgement came back
        assert rig.fleet.totals()["acked"] == rig.fleet.totals()["sent"]
        await rig.stop()

    run(scenario)


def test_publish_sends_the_fields_given(broker: Broker) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=1, telemetry_s=0, heartbeat_s=100.0)
        await rig.start()
        device = rig.fleet.devices["0"]
        device.publish("telemetry", {"value": 1.5, "sensor": "given"})
        device.publish("alarm", {"level": 3})
        await until(lambda: len([r for r in rig.records if r["type"] != "heartbeat"]) == 2, "both messages")
        assert [(r["type"], r["seq"]) for r in rig.records if r["type"] != "heartbeat"] == [
            ("telemetry", 0),
            ("alarm", 0),
        ]
        with pytest.raises(ValueError, match="reserved"):
            device.publish("status", {})
        await rig.stop()

    run(scenario)


def test_on_mqtt_5_an_acl_refusal_is_counted_and_nothing_gets_through(tmp_path) -> None:
    """A rogue device (id 2) logs in as user 1: the broker's ACL refuses its publishes under
    edgeswarm/f/2/; MQTT 5's PUBACK says so and the device counts it. Device 1 is unaffected."""

    async def scenario(b: Broker) -> None:
        loop = ClientLoop()
        receiver = Receiver(loop, b.host, b.port, fleet="f", username="svc", password="pw-svc")
        receiver.start()
        await until(lambda: receiver.connected, "the receiver")
        await asyncio.sleep(0.05)
        options = DeviceOptions(fleet="f", protocol="5", password="pw-1", heartbeat_s=100.0, telemetry_s=0)
        honest = MqttDevice(1, options, loop, b.host, b.port)
        rogue = MqttDevice(2, options, loop, b.host, b.port, username="1")
        for device in (honest, rogue):
            device.start()
        await until(lambda: honest.status == "online" and rogue.status == "online", "both online")
        for k in range(5):
            honest.publish("alarm", {"k": k})
            rogue.publish("alarm", {"k": k})
        await until(lambda: rogue.counters["refused_publish"] == 6, "the heartbeat and 5 alarms refused")
        await until(lambda: honest.counters["acked"] == 6, "the honest device's 6 acknowledged")
        await until(lambda: receiver.totals()["received"] >= 6, "the honest device's messages")
        assert "2" not in receiver.devices and receiver.metrics("1")["received"] == 6
        assert rogue.counters["acked"] == 0
        for device in (honest, rogue):
            device.stop()
        receiver.stop()
        assert await loop.drain()
        loop.close()

    with Broker(tmp_path, users={"1": "pw-1", "2": "pw-2", "svc": "pw-svc"}, service_users={"svc"}) as b:
        asyncio.run(scenario(b))


@pytest.mark.parametrize("clean_session", [False, True])
def test_mqtt_5_sessions_will_and_delivery(broker: Broker, peers, clean_session: bool) -> None:
    async def scenario() -> None:
        rig = Rig(
            broker, devices=2, protocol="5", keepalive_s=1, clean_session=clean_session, telemetry_s=0.05
        )
        await rig.start()
        await asyncio.sleep(0.3)
        device = rig.fleet.devices["1"]
        device.fail()
        await until(lambda: rig.receiver.totals()["wills"] == 1, "the will of a silent MQTT 5 device")
        sender = peers(broker, "operator")
        sender.connect()
        sender.publish(device_topic("f", "1", "inbox"), json.dumps({"command": "queued"}).encode(), qos=1)
        device.recover()
        await until(lambda: device.status == "online" and device.inbox_subscribed, "the device back")
        if not clean_session:
            await until(lambda: device.counters["inbox_received"] == 1, "the inbox message kept for it")
        rig.fleet.stop()
        produced = rig.fleet.totals()["produced"]
        await until(lambda: rig.receiver.totals()["received"] >= produced, "every message")
        assert rig.receiver.totals()["missing"] == 0
        assert device.counters["inbox_received"] == (0 if clean_session else 1)
        await rig.stop()

    run(scenario)
