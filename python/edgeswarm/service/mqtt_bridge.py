"""The edge runtime's uplink over a real MQTT broker: one MQTT client per device, one receiver.

:class:`MqttBridge` is the :class:`~edgeswarm.fleet.runtime.ReadingsUplink` of ``edgeswarm serve
--mqtt embedded|mqtt://host:port``. Device row ``i`` of the runtime is :class:`MqttDevice` ``i`` of
fleet ``edge`` (topics ``edgeswarm/edge/<i>/...``: MQTT names a device by its row, the API by its
id, ``dev-0007`` is ``edgeswarm/edge/7/``). Every tick,

1. the runtime hands over each online device's readings of the tick (:meth:`publish_readings`)
   and the device publishes them, as one ``telemetry`` message ``{first_sample, values}``
   through its own client, its faults and its offline buffer (a failed device buffers them);
2. a :class:`~edgeswarm.mqtt.receiver.Receiver` subscribed to ``edgeswarm/edge/+/+`` hears them
   (and measures delivery: seq gaps, duplicates, latency);
3. at the next tick the runtime takes what arrived (:meth:`delivered_readings`). It waits, at
   most one epoch after the publish, until every message the devices handed to the broker has
   arrived, so a tick stepped early (tests, a late loop) does not miss messages still in flight;
   what has not arrived by then is missing, and arrives too late to be used. Messages held back
   by an injected delay are waited for too; one delayed past the epoch is missing.

The readings survive the trip bit for bit (JSON keeps a float's shortest round-trip text), so
with no faults the detectors see exactly the generated readings, one tick later. With device
faults (``faults``) or a failed device, what was lost or buffered is missing in the runtime.

The clients run on one asyncio loop in a thread of their own (paho's external loop,
:class:`~edgeswarm.mqtt.client_loop.ClientLoop`); every call from the service's threads runs on
that loop and waits for its answer, and nothing on that loop takes the runtime's lock, so the
runtime may call in while holding it. The receiver's arrivals go to the waiting tick under the
bridge's own condition variable.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import paho.mqtt.client as paho

from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import DeviceOptions, MqttDevice, device_topic
from edgeswarm.mqtt.faults import LinkFaults
from edgeswarm.mqtt.receiver import Receiver
from edgeswarm.service.broker_stats import BrokerStats

__all__ = ["FLEET", "SERVICE_USER", "MqttBridge"]

FLEET = "edge"  # the service's fleet name in topics
SERVICE_USER = "edgeswarm-service"  # the broker user of the receiver and the $SYS reader
_CALL_TIMEOUT_S = 10.0  # a call into the MQTT loop that takes longer than this is a failure
_START_TIMEOUT_S = 15.0  # devices not connected by then start anyway, buffering until they are
_STOP_TIMEOUT_S = 3.0

_log = logging.getLogger("edgeswarm.service")
T = TypeVar("T")


def device_password(secret: str, device: str) -> str:
    """Device ``device``'s own broker password, derived from the service's ``secret`` (HMAC-SHA256):
    a device that knows its password cannot log in as another."""
    digest = hmac.new(secret.encode(), f"edgeswarm-device:{device}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class MqttBridge:
    """The uplink of the service's edge fleet on the broker at ``host:port`` (see the module
    docstring). ``device_secret`` derives each device's own password (:func:`device_password`; user name: its row, as the
    broker's per-device ACL expects); ``service_password`` that of :data:`SERVICE_USER`; None for
    both on a broker without users. ``wait_s`` bounds the wait for in-flight telemetry (one epoch)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        seed: int = 0,
        wait_s: float = 0.5,
        device_secret: str | None = None,
        service_password: str | None = None,
        faults: LinkFaults | None = None,
        keepalive_s: int = 60,
        heartbeat_s: float = 10.0,
    ) -> None:
        if not (math.isfinite(wait_s) and wait_s > 0):
            raise ValueError(f"wait_s: {wait_s} is out of range; allowed a finite number > 0")
        self.host, self.port = host, port
        self.wait_s = float(wait_s)
        self._service_password = service_password
        self.options = DeviceOptions(
            fleet=FLEET,
            qos=1,
            heartbeat_s=heartbeat_s,
            telemetry_s=0.0,  # telemetry is sent when the runtime hands over readings, not by a timer
            keepalive_s=keepalive_s,
            faults=faults or LinkFaults(),
            seed=seed,
        )
        self._device_secret = device_secret
        self.n = 0
        self.devices: list[MqttDevice] = []
        #: Registers a broker user for a device added while running (the embedded broker's add_user).
        self.add_device_user: Callable[[str], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client_loop: ClientLoop | None = None
        self.receiver: Receiver | None = None
        self.stats: BrokerStats | None = None
        self._inbox_seq: dict[int, int] = {}
        # Telemetry arrivals, handed from the MQTT loop to the waiting tick.
        self._arrivals = threading.Condition()
        self._arrived: dict[int, dict[int, list[Any]]] = {}  # first_sample -> row -> values
        self._expected: set[int] = set()  # rows whose last batch went to the broker
        self._asked = 0  # rows the runtime asked to publish in the last batch
        self._batch_start: int | None = None
        self._published_at = 0.0
        self._consumed_below = 0  # readings of earlier samples arrive too late to be used
        self.late = 0  # telemetry messages that arrived after their tick
        self.malformed = 0
        self.missing_messages = 0  # handed over by the runtime, not arrived by the next tick
        self.delivered_messages = 0

    # ------------------------------------------------------------------ life cycle

    @property
    def started(self) -> bool:
        return self._loop is not None

    def grow(self, n: int) -> None:
        """The runtime's device rows. Rows added while running become MQTT devices at once: on an
        embedded broker each gets its broker user first (``add_device_user``)."""
        n = int(n)
        if not self.started:
            self.n = max(self.n, n)
            return
        if n <= self.n:
            return
        if self._device_secret is not None:
            if self.add_device_user is None:
                raise RuntimeError("devices: this broker's users are fixed; no device can be added")
            for row in range(self.n, n):
                self.add_device_user(str(row))
        self._call(self._add_devices, self.n, n)
        self.n = n

    def _add_devices(self, first: int, end: int) -> None:
        for row in range(first, end):
            device = MqttDevice(
                row, self.options, self._client_loop, self.host, self.port, password=self._password_of(row)
            )
            self.devices.append(device)
            device.start()

    def _password_of(self, row: int) -> str | None:
        return None if self._device_secret is None else device_password(self._device_secret, str(row))

    def new_device_refusal(self) -> str | None:
        if self.started and self._device_secret is not None and self.add_device_user is None:
            return "the broker's users are fixed at start; add it with --mqtt off (an MQTT device at the next start)"
        return None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def set_broker(
        self, host: str, port: int, device_secret: str | None, service_password: str | None
    ) -> None:
        """Where to connect and with which passwords (before :meth:`start`; the broker's port may be
        known only once the runtime has said how many devices it needs)."""
        if self.started:
            raise RuntimeError("mqtt: the bridge is running; set the broker before start()")
        self.host, self.port = host, port
        self._service_password = service_password
        self._device_secret = device_secret

    def start(self) -> None:
        """Starts the MQTT loop thread, the receiver, the $SYS reader and every device, and waits
        (bounded) until the receiver is subscribed and the devices are connected."""
        if self.started:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="mqtt-bridge", daemon=True)
        self._thread.start()
        subscribed, online = threading.Event(), threading.Event()
        try:
            self._call(self._start_clients, subscribed, online)
        except OSError as error:
            self.stop()
            raise RuntimeError(f"mqtt: cannot connect to the broker at {self.url}: {error}") from None
        if not subscribed.wait(_START_TIMEOUT_S):
            raise RuntimeError(
                f"mqtt: the receiver did not subscribe on {self.host}:{self.port} within {_START_TIMEOUT_S} s"
                + (f" (refused: {self.receiver.refused})" if self.receiver and self.receiver.refused else "")
            )
        if not online.wait(_START_TIMEOUT_S):
            statuses = self._call(self._statuses)
            _log.warning("mqtt: not every device connected within %s s: %s", _START_TIMEOUT_S, statuses)

    def _start_clients(self, subscribed: threading.Event, online: threading.Event) -> None:
        self._client_loop = ClientLoop(self._loop)
        receiver = Receiver(
            self._client_loop,
            self.host,
            self.port,
            fleet=FLEET,
            qos=1,
            client_id=f"edgeswarm-{FLEET}-receiver",
            username=SERVICE_USER if self._service_password is not None else None,
            password=self._service_password,
            clean_session=True,  # nothing queued from an earlier run is mistaken for this run's readings
            seed=self.options.seed,
        )
        # One subscription for both: the receiver measures delivery, the bridge keeps the readings.
        measure = receiver.client.on_message
        receiver.client.on_message = lambda client, userdata, message: (
            measure(client, userdata, message),
            self._heard(message),
        )
        receiver.client.on_subscribe = lambda *_args: subscribed.set()
        receiver.start()
        self.receiver = receiver
        self.stats = BrokerStats(
            self._client_loop,
            self.host,
            self.port,
            username=SERVICE_USER if self._service_password is not None else None,
            password=self._service_password,
            client_id=f"edgeswarm-{FLEET}-service",
        )
        self.stats.start()

        def event(_device: MqttDevice, status: str, _detail: str) -> None:
            if status == "online" and all(d.status == "online" for d in self.devices):
                online.set()

        for row in range(self.n):
            device = MqttDevice(
                row,
                self.options,
                self._client_loop,
                self.host,
                self.port,
                on_event=event,
                password=self._password_of(row),
            )
            self.devices.append(device)
        for row, device in enumerate(self.devices):
            device.start(phase=row / max(self.n, 1))

    def stop(self) -> None:
        """Stops the devices cleanly (retained ``offline``, DISCONNECT), the clients and the loop."""
        if self._loop is None:
            return
        try:
            self._call(self._stop_clients)
            deadline = time.monotonic() + _STOP_TIMEOUT_S
            while self._call(self._client_loop.serviced) and time.monotonic() < deadline:
                time.sleep(0.02)  # polls for closed sockets under a deadline
        finally:
            loop, self._loop = self._loop, None
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(_STOP_TIMEOUT_S)
            if not loop.is_running():
                loop.close()
        with self._arrivals:
            self._arrivals.notify_all()

    def _stop_clients(self) -> None:
        for device in self.devices:
            device.stop()
        if self.receiver is not None:
            self.receiver.stop()
        if self.stats is not None:
            self.stats.stop()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` on the MQTT loop and returns its result."""
        if self._loop is None:
            raise RuntimeError("mqtt: the bridge is not running")
        if threading.current_thread() is self._thread:
            return fn(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                future.set_exception(error)

        self._loop.call_soon_threadsafe(run)
        return future.result(_CALL_TIMEOUT_S)

    # ------------------------------------------------------------------ readings (ReadingsUplink)

    def publish_readings(self, rows: np.ndarray, start: int, values: np.ndarray) -> None:
        """Device ``rows[i]`` publishes ``values[i]`` (its readings of samples ``start ..``)."""
        fields = [
            {"first_sample": int(start), "values": [v if math.isfinite(v) else None for v in row.tolist()]}
            for row in np.asarray(values, np.float64)
        ]
        rows = [int(r) for r in rows]
        sent = self._call(self._publish_readings, rows, fields)
        with self._arrivals:
            self._batch_start = int(start)
            self._expected = set(sent)
            self._asked = len(rows)
            self._published_at = time.monotonic()

    def _publish_readings(self, rows: list[int], fields: list[dict[str, Any]]) -> list[int]:
        sent = []
        for row, message in zip(rows, fields, strict=True):
            device = self.devices[row]
            sent_before, delayed_before = device.counters["sent"], device.counters["in_delay"]
            device.publish("telemetry", message)
            # Handed to the broker, or waiting out an injected delay (not lost, not buffered).
            if device.counters["sent"] > sent_before or device.counters["in_delay"] > delayed_before:
                sent.append(row)
        return sent

    def _heard(self, message: paho.MQTTMessage) -> None:
        """On the MQTT loop: keep a telemetry message's readings for the tick that waits for them."""
        device, _, kind = message.topic.rpartition("/")
        if kind != "telemetry":
            return
        try:
            row = int(device.rpartition("/")[2])
            body = json.loads(message.payload)
            first, values = int(body["first_sample"]), list(body["values"])
        except (ValueError, KeyError, TypeError):
            with self._arrivals:
                self.malformed += 1
            return
        with self._arrivals:
            if first < self._consumed_below:
                self.late += 1
                return
            self._arrived.setdefault(first, {})[row] = values
            self._arrivals.notify_all()

    def delivered_readings(self, start: int, steps: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """What arrived of the readings of samples ``start .. start + steps`` (see the module docstring)."""
        values = np.full((n, steps), np.nan)
        arrived = np.zeros(n, bool)
        with self._arrivals:
            if self._batch_start == start:
                deadline = self._published_at + self.wait_s
                while not self._expected <= set(self._arrived.get(start, {})):
                    left = deadline - time.monotonic()
                    if left <= 0 or self._loop is None:
                        break
                    self._arrivals.wait(left)
            batch = self._arrived.pop(start, {})
            for first in [f for f in self._arrived if f < start]:  # arrived after their own tick
                self.late += len(self._arrived.pop(first))
            self._consumed_below = start + steps
            published = self._asked if self._batch_start == start else 0
            self.delivered_messages += len(batch)
            self.missing_messages += max(published - len(batch), 0)
        for row, readings in batch.items():
            if 0 <= row < n and len(readings) == steps:
                values[row] = [np.nan if v is None else float(v) for v in readings]
                arrived[row] = True
        return values, arrived

    # ------------------------------------------------------------------ devices (the API)

    def device_status(self, row: int) -> dict[str, Any]:
        """The live MQTT device: its own status (online / failed / reconnecting ...), the broker's
        view (its retained status), and its topics."""
        return self._call(self._device_status, row)

    def _device_status(self, row: int) -> dict[str, Any]:
        device = self.devices[row]
        heard = self.receiver.devices.get(device.id) if self.receiver is not None else None
        return {
            "status": device.status,
            "broker_status": heard.status if heard is not None else "unknown",
            "topic": device.topic("").rstrip("/"),
            "connects": device.counters["connects"],
            "connection_losses": device.counters["connection_losses"],
            "buffered": len(device.buffer),
        }

    def metrics(self, row: int) -> dict[str, Any]:
        """The device's own counters (:meth:`MqttDevice.metrics`) beside the receiver's delivery
        figures for it (:meth:`Receiver.metrics`; None before the receiver heard it)."""
        return self._call(self._metrics, row)

    def _metrics(self, row: int) -> dict[str, Any]:
        device = self.devices[row]
        try:
            delivery = self.receiver.metrics(device.id) if self.receiver is not None else None
        except KeyError:
            delivery = None
        return {
            "transport": "mqtt",
            "mqtt_device": device.id,
            "device": device.metrics(),
            "delivery": delivery,
        }

    def publish_inbox(self, row: int, message: Any) -> dict[str, Any]:
        """Publishes ``message`` to the device's inbox topic through the broker (QoS 1)."""
        return self._call(self._publish_inbox, row, message)

    def _publish_inbox(self, row: int, message: Any) -> dict[str, Any]:
        assert self.stats is not None
        device = self.devices[row]
        seq = self._inbox_seq.get(row, 0)
        self._inbox_seq[row] = seq + 1
        sent_at = time.time()
        payload = {"device": device.id, "type": "inbox", "seq": seq, "sent_at": sent_at, "message": message}
        topic = device_topic(FLEET, device.id, "inbox")
        info = self.stats.client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1)
        queued = info.rc == paho.MQTT_ERR_SUCCESS
        return {
            "transport": "mqtt",
            "topic": topic,
            "message_id": info.mid,
            "seq": seq,
            "status": "published" if queued else "not_connected",
            "sent_at": sent_at,
            "device_status": device.status,
        }

    def fail(self, row: int) -> None:
        """The device's network stops (no DISCONNECT): the broker publishes its will after 1.5 x keepalive."""
        self._call(self.devices[row].fail)

    def recover(self, row: int) -> None:
        self._call(self.devices[row].recover)

    # ------------------------------------------------------------------ fleet and broker figures

    def _statuses(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for device in self.devices:
            out[device.status] = out.get(device.status, 0) + 1
        return out

    def totals(self) -> dict[str, Any]:
        """The fleet's uplink summed: the edge summary's ``link`` (sent, received, dropped as the
        simulated link names them) plus the MQTT figures."""
        return self._call(self._totals)

    def _totals(self) -> dict[str, Any]:
        counters: dict[str, int] = {}
        for device in self.devices:
            for key, value in device.counters.items():
                counters[key] = counters.get(key, 0) + value
        heard = self.receiver.totals() if self.receiver is not None else {}
        latency = [
            (d.latency_sum, d.latency_count)
            for d in (self.receiver.devices.values() if self.receiver else ())
        ]
        count = sum(c for _, c in latency)
        with self._arrivals:
            readings = {
                "delivered": self.delivered_messages,
                "missing": self.missing_messages,
                "late": self.late,
                "malformed": self.malformed,
            }
        return {
            "transport": "mqtt",
            "broker": f"mqtt://{self.host}:{self.port}",
            "sent": counters.get("sent", 0),
            "received": heard.get("received", 0),
            "dropped": sum(counters.get(k, 0) for k in ("dropped_send_loss", "dropped_buffer_full")),
            "buffered": sum(len(d.buffer) for d in self.devices),
            "avg_latency": sum(s for s, _ in latency) / count if count else None,
            "statuses": self._statuses(),
            "telemetry_messages": readings,
            "receiver": heard,
        }

    def broker(self) -> dict[str, Any]:
        """The broker's $SYS figures, the fleet's statuses and the receiver's totals."""
        return self._call(self._broker)

    def _broker(self) -> dict[str, Any]:
        return {
            "url": f"mqtt://{self.host}:{self.port}",
            "sys": self.stats.snapshot() if self.stats is not None else None,
            "devices": self._statuses(),
            "receiver": self.receiver.totals() if self.receiver is not None else None,
        }
