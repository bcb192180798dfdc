"""Fixtures for the MQTT tests: a real Mosquitto on a free loopback port per test, and paho-mqtt 2.x peers.

No skip when mosquitto is missing: `make test` installs it, so its absence is a failure whose message is
the broker's one line naming the package (`apt-get install mosquitto`).
Every wait here is bounded (WAIT_S) and waits on an event or a condition, never on a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from edgeswarm.mqtt import Broker

WAIT_S = 5.0
USERS = {"dev-1": "pw-dev-1", "dev-2": "pw-dev-2", "svc": "pw-svc"}


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Peer:
    """One paho-mqtt 2.x client (callback API 2, MQTT 3.1.1) on its own network thread, recording what
    it receives; `wait_for` blocks on a condition until a predicate holds or WAIT_S passes."""

    def __init__(
        self,
        broker: Broker,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = True,
        ca_file: Path | None = None,
    ) -> None:
        self.broker = broker
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=clean_session,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if broker.tls:
            # No ca_file: the system's CAs, which do not know the broker's generated CA.
            self.client.tls_set(ca_certs=None if ca_file is None else str(ca_file))
        self.messages: list[Received] = []
        self.connack: mqtt.ReasonCode | None = None
        self.session_present: bool | None = None
        self._subacks: dict[int, list[mqtt.ReasonCode]] = {}
        self._changed = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def _on_connect(self, _client, _userdata, flags, reason_code, _properties) -> None:
        with self._changed:
            if self.connack is None:  # the first CONNACK; paho retries a refused one in the background
                self.connack = reason_code
                self.session_present = flags.session_present
            self._changed.notify_all()

    def _on_message(self, _client, _userdata, message) -> None:
        with self._changed:
            self.messages.append(Received(message.topic, message.payload, message.qos, bool(message.retain)))
            self._changed.notify_all()

    def _on_subscribe(self, _client, _userdata, mid, reason_code_list, _properties) -> None:
        with self._changed:
            self._subacks[mid] = list(reason_code_list)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(predicate, timeout=WAIT_S):
                raise AssertionError(f"{what}: not within {WAIT_S} s; received {self.messages}")

    def connect(self) -> mqtt.ReasonCode:
        """Connect, start the network thread and return the CONNACK's reason code."""
        self.connack = None
        self.client.connect(self.broker.host, self.broker.port, keepalive=10)
        self.client.loop_start()
        self.wait_for(lambda: self.connack is not None, "CONNACK")
        assert self.connack is not None
        return self.connack

    def subscribe(self, topic: str, qos: int) -> list[mqtt.ReasonCode]:
        """Subscribe and wait for the SUBACK; returns its reason codes (granted QoS or a refusal)."""
        result, mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS, result
        self.wait_for(lambda: mid in self._subacks, f"SUBACK for {topic}")
        return self._subacks[mid]

    def publish(self, topic: str, payload: bytes, qos: int, *, retain: bool = False) -> None:
        """Publish; at QoS 1 and 2 return once the broker has acknowledged it."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0:
            info.wait_for_publish(timeout=WAIT_S)
            assert info.is_published(), f"{topic}: not acknowledged within {WAIT_S} s"

    def payloads(self, topic: str) -> list[bytes]:
        with self._changed:
            return [m.payload for m in self.messages if m.topic == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """An anonymous broker on a free port with its run folder in tmp_path; stopped after the test."""
    with Broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def auth_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker with USERS: dev-1 and dev-2 are devices (own topics only), svc a service user."""
    with Broker(tmp_path / "auth-broker", users=USERS, service_users={"svc"}) as running:
        yield running


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path / "tls-broker", tls=True) as running:
        yield running


@pytest.fixture
def peers() -> Iterator[Callable[..., Peer]]:
    """A factory of Peers (same arguments as Peer); every one made is closed after the test."""
    made: list[Peer] = []

    def make(broker: Broker, client_id: str, **options) -> Peer:
        peer = Peer(broker, client_id, **options)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()
