"""The broker's own figures, read from its ``$SYS`` topics by a service client.

Mosquitto publishes its counters under ``$SYS/broker/...`` every ``sys_interval`` seconds. The
reader subscribes to the few it reports rather than to ``$SYS/#``: every ``$SYS`` message it
receives is one more message the broker *sends*, and all of ``$SYS/#`` (about 55 topics) would
make the reader itself the largest part of a small fleet's "sent" figure.

Per second rates come from two consecutive updates of a counter (its change over the time
between them, as received here). Mosquitto republishes a counter only when it changed, so one
not updated for ``stale_s`` (about two ``sys_interval``) has had no traffic: its rate reads 0.
``load_*_per_min`` are the broker's own one-minute averages.
``dropped`` is ``$SYS/broker/publish/messages/dropped``: messages the broker discarded (a full
queue of an offline persistent client, over ``max_inflight``/``max_queued``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as paho

from edgeswarm.mqtt.backoff import Backoff
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.service_client import ServiceClient

__all__ = ["SYS_TOPICS", "BrokerStats"]

#: $SYS topic -> the figure it gives.
SYS_TOPICS: dict[str, str] = {
    "$SYS/broker/clients/connected": "clients_connected",
    "$SYS/broker/publish/messages/received": "messages_received",
    "$SYS/broker/publish/messages/sent": "messages_sent",
    "$SYS/broker/publish/messages/dropped": "dropped",
    "$SYS/broker/load/publish/received/1min": "load_received_per_min",
    "$SYS/broker/load/publish/sent/1min": "load_sent_per_min",
    "$SYS/broker/uptime": "uptime",
    "$SYS/broker/version": "version",
}
_RATES = {"messages_received": "received_per_s", "messages_sent": "sent_per_s"}
_TEXT = ("uptime", "version")
_RECONNECT_S = 1.0  # the broker is local or on the service's network: retry every second


class BrokerStats(ServiceClient):
    """Reads ``$SYS`` of the broker at ``host:port`` through ``client_loop`` (call :meth:`start` on
    its loop). ``client`` is the service's own MQTT connection: the bridge publishes to device
    inboxes through it too. :meth:`snapshot` may be called from any thread."""

    def __init__(
        self,
        client_loop: ClientLoop,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        client_id: str = "edgeswarm-service-stats",
        stale_s: float = 2.5,
    ) -> None:
        self.stale_s = stale_s
        self._lock = threading.Lock()
        self._figures: dict[str, Any] = {}
        self._previous: dict[str, tuple[float, float]] = {}  # counter -> (value, time received)
        self._rates: dict[str, float] = {}
        self.updated_at: float | None = None
        super().__init__(
            client_loop,
            host,
            port,
            client_id=client_id,
            # The broker is local or on the service's network: retry every second.
            backoff=Backoff(seed=0, device=client_id, base_s=_RECONNECT_S, cap_s=_RECONNECT_S, jitter="none"),
            username=username,
            password=password,
        )

    def subscribed_on(self, client: paho.Client) -> None:
        client.subscribe([(topic, 0) for topic in SYS_TOPICS])

    def _message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        name = SYS_TOPICS.get(message.topic)
        if name is None:
            return
        text = message.payload.decode("utf-8", "replace").strip()
        now = time.monotonic()
        with self._lock:
            self.updated_at = time.time()
            if name in _TEXT:
                self._figures[name] = text
                return
            try:
                value = float(text)
            except ValueError:
                return
            self._figures[name] = int(value) if value.is_integer() and "load" not in name else value
            rate = _RATES.get(name)
            if rate is not None:
                before = self._previous.get(name)
                if before is not None and now > before[1]:
                    self._rates[rate] = (value - before[0]) / (now - before[1])
                self._previous[name] = (value, now)

    def snapshot(self) -> dict[str, Any]:
        """The latest figures (None until the broker has published them)."""
        with self._lock:
            out: dict[str, Any] = {name: self._figures.get(name) for name in SYS_TOPICS.values()}
            now = time.monotonic()
            for counter, rate in _RATES.items():
                before = self._previous.get(counter)
                quiet = before is not None and now - before[1] > self.stale_s
                out[rate] = 0.0 if quiet else self._rates.get(rate)
            out["connected"] = self.connected
            out["refused"] = self.refused
            out["updated_at"] = self.updated_at
            return out
