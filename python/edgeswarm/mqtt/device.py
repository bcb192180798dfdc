"""One simulated device as a real MQTT client: heartbeats, telemetry, status, inbox, faults.

Topics, under ``edgeswarm/<fleet>/<device>/``: ``heartbeat`` and ``telemetry`` (published, at
the device's QoS), ``status`` (retained, QoS 1: ``online`` on every connection, ``offline`` with
reason ``stopped`` on a clean stop, and the same ``offline`` with reason ``lost`` as the Last Will,
which the broker publishes when the connection dies without a DISCONNECT), ``inbox``
(subscribed, re-subscribed on every connection). Other kinds (:meth:`MqttDevice.publish`) go to
``edgeswarm/<fleet>/<device>/<kind>``.

Every message is JSON ``{device, type, seq, sent_at, ...}``: ``seq`` counts per type from 0, so a
receiver sees loss, duplicates and reordering; ``sent_at`` (Unix seconds) is when the device
produced the message, so the latency a receiver measures includes the injected delay and any
time spent in the offline buffer (``flushed: true`` marks those).

Faults (:class:`~edgeswarm.mqtt.faults.DeviceFaults`): each produced message is duplicated,
dropped on send, or delayed as its seeded fate says; each inbox message may be dropped on
receive. A device is *failed* between :meth:`fail` and :meth:`recover`: its network loop stops
without a DISCONNECT (:meth:`ClientLoop.freeze`), what it produces goes to its offline buffer,
and the broker, hearing nothing, drops it after 1.5 × keepalive and publishes its will. On
recovery a live connection carries on; a dead one is re-established with capped exponential
backoff and jitter, and the buffer is flushed once the broker accepts the connection.

Status is the device's own view: ``connecting`` (first connection), ``online`` (connected and
serviced), ``failed``, ``reconnecting`` (lost or recovering, not yet accepted) or ``stopped`` —
never ``online`` while failed.
"""

from __future__ import annotations

import json
import select
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edgeswarm._validate import require_choice, require_float, require_int
from edgeswarm.mqtt.backoff import Backoff
from edgeswarm.mqtt.broker import TOPIC_ROOT
from edgeswarm.mqtt.buffered_client import BufferedClient
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.faults import DeviceFaults, LinkFaults
from edgeswarm.mqtt.offline_buffer import DEFAULT_CAPACITY, OfflineBuffer

__all__ = ["STATUSES", "DeviceOptions", "MqttDevice", "device_topic"]

STATUSES: tuple[str, ...] = ("connecting", "online", "failed", "reconnecting", "stopped")
PROTOCOLS: tuple[str, ...] = ("3.1.1", "5")
_SESSION_EXPIRY_S = 3600  # MQTT 5: how long the broker keeps a persistent session of a device away
_INBOX_KEPT = 10  # inbox messages kept per device for its metrics
_STOP_WAIT_S = 2.0  # a stop disconnects at the latest this long after its offline status


def device_topic(fleet: str, device: int | str, kind: str) -> str:
    """``edgeswarm/<fleet>/<device>/<kind>``."""
    return f"{TOPIC_ROOT}/{fleet}/{device}/{kind}"


def _topic_segment(name: str, value: object) -> str:
    if not isinstance(value, str) or not value or any(c in value for c in "/+#\0") or len(value) > 64:
        raise ValueError(f"{name}: {value!r} is not allowed; use 1-64 characters without / + # or NUL")
    return value


@dataclass(frozen=True)
class DeviceOptions:
    """What every device of a fleet shares (validated on construction)."""

    fleet: str = "fleet"
    qos: int = 1  #: QoS of heartbeats, telemetry and custom messages (status is always QoS 1)
    heartbeat_s: float = 10.0
    telemetry_s: float = 1.0  #: 0 sends no telemetry
    keepalive_s: int = 60
    clean_session: bool = True  #: False keeps the session (subscriptions, queued QoS>0) across reconnects
    buffer_capacity: int = DEFAULT_CAPACITY
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    faults: LinkFaults = field(default_factory=LinkFaults)
    seed: int = 0
    password: str | None = None  #: with a username equal to the device id (the broker's ACL pattern)
    protocol: str = "3.1.1"  #: or "5": the broker's PUBACK then says when it refused a publish (ACL)
    tls_ca: str | None = None  #: CA certificate file: connect over TLS

    def __post_init__(self) -> None:
        _topic_segment("fleet", self.fleet)
        if self.qos not in (0, 1, 2) or isinstance(self.qos, bool):
            raise ValueError(f"qos: {self.qos!r} is not allowed; use 0, 1 or 2")
        if require_float("heartbeat_s", self.heartbeat_s) <= 0:
            raise ValueError(f"heartbeat_s: {self.heartbeat_s} is out of range; allowed > 0 seconds")
        require_float("telemetry_s", self.telemetry_s, minimum=0.0)
        require_int("keepalive_s", self.keepalive_s, minimum=1, maximum=65535)
        require_int("buffer_capacity", self.buffer_capacity, minimum=0, maximum=1_000_000)
        require_int("seed", self.seed, minimum=0, maximum=2**64 - 1)
        if not isinstance(self.faults, LinkFaults):
            raise ValueError(f"faults: expected a LinkFaults, got {self.faults!r}")
        require_choice("protocol", self.protocol, PROTOCOLS)


class MqttDevice:
    """Device ``index`` of ``options.fleet``, connecting to ``host:port`` through ``client_loop``.

    ``reading(index)`` returns the telemetry fields of the device's next reading (a dict), or
    None for a sensor that has nothing to report; ``on_event(device, event, detail)`` hears every
    status change (for logs)."""

    def __init__(
        self,
        index: int,
        options: DeviceOptions,
        client_loop: ClientLoop,
        host: str,
        port: int,
        *,
        reading: Callable[[int], dict[str, Any] | None] | None = None,
        on_event: Callable[[MqttDevice, str, str], None] | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.index = require_int("index", index, minimum=0)
        self.id = str(self.index)
        self._username = self.id if username is None else username  # another's: a rogue device
        self._password = options.password if password is None else password  # its own, else the fleet's
        self.options = options
        self.status = "connecting"
        self._loop = client_loop
        self._host, self._port = host, port
        self._reading = reading
        self._on_event = on_event
        self._faults = DeviceFaults(options.faults, seed=options.seed, device=self.index)
        self._clean = options.faults.is_clean
        self._backoff = Backoff(
            seed=options.seed, device=self.index, base_s=options.backoff_base_s, cap_s=options.backoff_cap_s
        )
        self.buffer = OfflineBuffer(options.buffer_capacity)
        self._seq: dict[str, int] = {}
        self._timers: dict[str, Any] = {}  # the next periodic send of each kind
        self._reconnect_timer: Any = None
        self._status_mids: set[int] = set()  # status publishes, not counted as data acknowledged
        self._disconnect_after: int | None = None  # the mid of the stop's offline status
        self.counters = {
            "produced": 0,
            "sent": 0,  # PUBLISH packets handed to the client (copies included)
            "acked": 0,  # completed by the broker (QoS 0: written)
            "duplicated": 0,
            "dropped_send_loss": 0,
            "dropped_buffer_full": 0,
            "dropped_receive_loss": 0,
            "dropped_stopped": 0,  # copies still in their injected delay when the device stopped
            "in_delay": 0,  # copies waiting out their injected delay now
            "inbox_received": 0,
            "connects": 0,
            "connection_losses": 0,
            "reconnect_attempts": 0,
            "refused": 0,  # CONNACK with an error (bad credentials, not authorised)
            "refused_publish": 0,  # MQTT 5: PUBACK / PUBREC with an error (e.g. the ACL said no)
            "failures": 0,
        }
        self.inbox: deque[dict[str, Any]] = deque(maxlen=_INBOX_KEPT)
        self.inbox_subscribed = False  #: the broker granted the inbox subscription of this connection
        self.client = self._make_client()

    # topics ----------------------------------------------------------------------------------

    def topic(self, kind: str) -> str:
        return device_topic(self.options.fleet, self.id, kind)

    def _make_client(self) -> paho.Client:
        o = self.options
        if o.protocol == "5":  # sessions are set at connect (clean start, expiry)
            client = BufferedClient(
                CallbackAPIVersion.VERSION2,
                client_id=f"{TOPIC_ROOT}-{o.fleet}-{self.id}",
                protocol=paho.MQTTv5,
            )
        else:
            client = BufferedClient(
                CallbackAPIVersion.VERSION2,
                client_id=f"{TOPIC_ROOT}-{o.fleet}-{self.id}",
                clean_session=o.clean_session,
                protocol=paho.MQTTv311,
            )
        if self._password is not None:
            client.username_pw_set(self._username, self._password)
        if o.tls_ca is not None:
            client.tls_set(ca_certs=o.tls_ca)
        client.will_set(self.topic("status"), self._status_payload("offline", "lost"), qos=1, retain=True)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._inbox_message
        client.on_publish = self._published
        client.on_subscribe = self._subscribed
        self._loop.attach(client)
        return client

    def _status_payload(self, status: str, reason: str) -> bytes:
        return json.dumps({"device": self.id, "type": "status", "status": status, "reason": reason}).encode()

    # life cycle ------------------------------------------------------------------------------

    def start(self, *, phase: float = 0.0) -> None:
        """Connects and starts the periodic messages, the first of each kind ``phase`` (a fraction
        in [0, 1)) of its period from now, so a fleet's devices spread their sends over the period
        instead of sending at one instant."""
        if not 0.0 <= phase < 1.0:
            raise ValueError(f"phase: {phase} is out of range; allowed [0, 1)")
        self._connect()
        self._every(self.options.heartbeat_s, phase, "heartbeat")
        if self.options.telemetry_s > 0 and self._reading is not None:
            self._every(self.options.telemetry_s, phase, "telemetry")

    def _every(self, period_s: float, phase: float, kind: str) -> None:
        loop = self._loop.loop
        start = loop.time() + phase * period_s

        def fire(k: int) -> None:  # the k-th send is due at start + k * period (no drift)
            self._timers[kind] = loop.call_at(start + (k + 1) * period_s, fire, k + 1)
            self._produce(kind)

        self._timers[kind] = loop.call_at(start, fire, 0)

    def _connect(self) -> None:
        try:
            if self.counters["connects"] == 0 and self.counters["reconnect_attempts"] == 0:
                self.client.connect(
                    self._host, self._port, keepalive=self.options.keepalive_s, **self._session()
                )
            else:
                self.counters["reconnect_attempts"] += 1
                self.client.reconnect()
        except (OSError, ValueError) as err:
            self._schedule_reconnect(f"connect failed: {err}")

    def _session(self) -> dict[str, Any]:
        """MQTT 5's session arguments of connect (paho keeps them for every reconnect)."""
        if self.options.protocol != "5":
            return {}
        if self.options.clean_session:
            return {"clean_start": True}
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = _SESSION_EXPIRY_S
        return {"clean_start": False, "properties": properties}

    def _schedule_reconnect(self, why: str) -> None:
        if self.status in ("stopped", "failed") or self._reconnect_timer is not None:
            return
        self._set_status("reconnecting", why)
        delay = self._backoff.next_delay()

        def attempt() -> None:
            self._reconnect_timer = None
            if self.status == "reconnecting":
                self._connect()

        self._reconnect_timer = self._loop.loop.call_later(delay, attempt)

    def _set_status(self, status: str, detail: str = "") -> None:
        if status != self.status:
            self.status = status
            if self._on_event is not None:
                self._on_event(self, status, detail)

    def fail(self) -> None:
        """The device's network stops: no DISCONNECT, no keepalive; messages are buffered."""
        if self.status in ("failed", "stopped"):
            return
        self.counters["failures"] += 1
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None
        self._loop.freeze(self.client)
        self._set_status("failed")

    def recover(self) -> None:
        """The network is back: carry on over a live connection, else reconnect with backoff."""
        if self.status != "failed":
            return
        self._set_status("reconnecting", "recovered")
        self._loop.thaw(self.client)
        self._read_what_arrived()  # a connection the broker dropped reads as closed, after what it sent
        if self.client.is_connected():
            self._went_online()
        elif self._reconnect_timer is None:
            self._backoff.reset()
            self._connect()

    def _read_what_arrived(self) -> None:
        client = self.client
        for _ in range(10_000):
            sock = client.socket()
            if sock is None or not client.is_connected():
                return
            buffered = isinstance(client, BufferedClient) and client.pending_input()
            if not buffered and not select.select([sock], [], [], 0)[0]:
                return  # nothing more: the connection is alive
            client.loop_read()

    def stop(self) -> None:
        """Cancels the timers, publishes a retained ``offline`` (reason ``stopped``) and disconnects
        once the broker acknowledges it — so after the acknowledgements of everything sent before
        (the broker answers a connection's packets in order) — or after ``_STOP_WAIT_S``."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None
        if self.status == "failed":
            self._loop.thaw(self.client)  # the lab stops it cleanly, whatever its network did
        self._set_status("stopped")
        if not self.client.is_connected():
            self.client.disconnect()
            return
        self._disconnect_after = self._publish_status("offline", "stopped")
        self._loop.loop.call_later(_STOP_WAIT_S, self.client.disconnect)

    # paho callbacks --------------------------------------------------------------------------

    def _connected(self, client: paho.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self.counters["refused"] += 1
            self._schedule_reconnect(f"refused: {reason}")
            return
        self.counters["connects"] += 1
        self._backoff.reset()
        self.inbox_subscribed = False
        client.subscribe(self.topic("inbox"), qos=self.options.qos)
        self._publish_status("online", "connected")
        if self.status != "failed":
            self._went_online()

    def _went_online(self) -> None:
        self._set_status("online")
        for message in self.buffer.flush():
            message["flushed"] = True
            self._publish_now(message)

    def _disconnected(self, _c: paho.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if self.status in ("stopped", "failed"):
            return
        self.counters["connection_losses"] += 1
        self._schedule_reconnect(f"connection lost: {reason}")

    def _publish_status(self, status: str, reason: str) -> int:
        info = self.client.publish(
            self.topic("status"), self._status_payload(status, reason), qos=1, retain=True
        )
        self._status_mids.add(info.mid)
        return info.mid

    def _subscribed(self, _c: paho.Client, _u: Any, _mid: int, reasons: Any, _props: Any) -> None:
        self.inbox_subscribed = not any(r.is_failure for r in reasons)

    def _published(self, _c: paho.Client, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        if mid in self._status_mids:
            self._status_mids.discard(mid)
            if mid == self._disconnect_after:
                self.client.disconnect()
        elif getattr(reason, "is_failure", False):  # MQTT 5 only: 3.1.1 acknowledges a refusal too
            self.counters["refused_publish"] += 1
        else:
            self.counters["acked"] += 1

    def _inbox_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        if not self._clean and self._faults.next_receive():
            self.counters["dropped_receive_loss"] += 1
            return
        self.counters["inbox_received"] += 1
        try:
            body: Any = json.loads(message.payload)
        except ValueError:
            body = {"raw": message.payload[:256].decode("utf-8", "replace")}
        self.inbox.append({"received_at": time.time(), "body": body})

    # sending ---------------------------------------------------------------------------------

    def publish(self, kind: str, fields: dict[str, Any] | None = None) -> None:
        """Produces one message of type ``kind`` (e.g. a custom event) with ``fields``."""
        kind = _topic_segment("kind", kind)
        if kind in ("status", "inbox"):
            raise ValueError(f"kind: {kind!r} is reserved; use heartbeat, telemetry or a custom kind")
        self._produce(kind, fields)

    def _produce(self, kind: str, fields: dict[str, Any] | None = None) -> None:
        if kind == "telemetry" and fields is None:  # the periodic reading, from the sensor model
            fields = self._reading(self.index) if self._reading is not None else None
            if fields is None:
                return
        seq = self._seq.get(kind, 0)
        self._seq[kind] = seq + 1
        message: dict[str, Any] = {"device": self.id, "type": kind, "seq": seq, "sent_at": time.time()}
        if fields:
            message.update(fields)
        self.counters["produced"] += 1
        if self._clean:  # every fate is one copy, no delay: skip the draw (same outcome)
            self._publish_or_buffer(message)
            return
        fate = self._faults.next_send()
        self.counters["dropped_send_loss"] += fate.dropped
        if fate.copies > 1:
            self.counters["duplicated"] += fate.copies - 1
        for delay_ms in fate.delays_ms:
            if delay_ms > 0:
                self.counters["in_delay"] += 1
                self._loop.loop.call_later(delay_ms / 1000.0, self._delayed, message)
            else:
                self._publish_or_buffer(message)

    def _delayed(self, message: dict[str, Any]) -> None:
        self.counters["in_delay"] -= 1
        if self.status == "stopped":
            self.counters["dropped_stopped"] += 1
        else:
            self._publish_or_buffer(message)

    def _publish_or_buffer(self, message: dict[str, Any]) -> None:
        if self.status == "online":
            self._publish_now(message)
        elif self.status != "stopped" and self.buffer.push(dict(message)):
            self.counters["dropped_buffer_full"] += 1

    def _publish_now(self, message: dict[str, Any]) -> None:
        self.counters["sent"] += 1
        payload = json.dumps(message, separators=(",", ":")).encode()
        self.client.publish(self.topic(message["type"]), payload, qos=self.options.qos)

    # metrics ---------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """The device's own counters, its offline buffer and its last inbox messages."""
        c = self.counters
        return {
            "device": self.id,
            "status": self.status,
            **c,
            "dropped": {
                "send_loss": c["dropped_send_loss"],
                "buffer_full": c["dropped_buffer_full"],
                "receive_loss": c["dropped_receive_loss"],
                "stopped": c["dropped_stopped"],
            },
            "buffered": len(self.buffer),
            "buffer_utilisation": self.buffer.utilisation,
            "flushed": self.buffer.flushed,
            "inbox": list(self.inbox),
        }
