"""BufferedClient: paho's private read/close hooks it overrides still exist, and it changes no
behaviour: many packets in one read are all handled, a closed connection leaves nothing behind."""

from __future__ import annotations

import inspect
import json

import paho.mqtt.client as paho
from edgeswarm.mqtt import Broker
from edgeswarm.mqtt.buffered_client import BufferedClient

from tests.mqtt.test_devices import Rig, run, until


def test_the_paho_hooks_it_overrides_exist_with_the_same_signature() -> None:
    for name in ("_sock_recv", "_sock_close"):
        ours, theirs = getattr(BufferedClient, name), getattr(paho.Client, name)
        assert ours is not theirs
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)


def test_a_burst_larger_than_one_read_is_delivered_whole_and_in_order(broker: Broker, peers) -> None:
    async def scenario() -> None:
        rig = Rig(broker, devices=1, telemetry_s=0, heartbeat_s=100.0)
        await rig.start()
        sender = peers(broker, "burst")
        sender.connect()
        body = "x" * 200
        for k in range(2000):  # ~450 KB: many 64 KiB reads, packets split across them
            sender.client.publish(
                "edgeswarm/f/0/burst", json.dumps({"seq": k, "sent_at": 0.0, "pad": body}), qos=1
            )
        await until(lambda: rig.receiver.totals()["received"] >= 2001, "the whole burst")
        stream = rig.receiver.devices["0"].streams["burst"]
        assert stream.received == 2000 and stream.reordered == 0 and stream.duplicates == 0
        assert rig.receiver.malformed == 0
        await rig.stop()

    run(scenario)
