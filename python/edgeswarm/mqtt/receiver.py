"""The receiving end of a fleet: one MQTT client that hears every device and measures delivery.

It subscribes to ``edgeswarm/<fleet>/+/+`` and, per device and message type, reads each
message's ``seq`` and ``sent_at``: end-to-end latency is ``received_at - sent_at`` (so it includes
any injected delay and time spent in an offline buffer), a ``seq`` seen before is a duplicate, one
below the highest seen is reordered, and the gaps below the highest seen are missing (lost, or
still to come). Retained ``status`` messages give the broker's view of each device, and an
``offline`` with reason ``lost`` is a Last Will the broker delivered.

Memory stays bounded in long runs: per device the latency window holds the last
:data:`LATENCY_WINDOW` samples (p50 / p99 over that window; count, mean and max over all), and
the set of seen sequence numbers is pruned below the highest minus :data:`SEQ_WINDOW` (a
duplicate older than that is not recognised). ``on_record`` hears every message as a dict, for
an experiment that writes them all to disk.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import paho.mqtt.client as paho

from edgeswarm.mqtt.backoff import Backoff
from edgeswarm.mqtt.broker import TOPIC_ROOT
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import _topic_segment
from edgeswarm.mqtt.service_client import ServiceClient

__all__ = ["LATENCY_WINDOW", "SEQ_WINDOW", "Receiver"]

LATENCY_WINDOW = 1000
SEQ_WINDOW = 4096
_LAST = 10


class _Stream:
    """One device's messages of one type."""

    __slots__ = ("duplicates", "highest", "received", "reordered", "seen")

    def __init__(self) -> None:
        self.received = 0
        self.duplicates = 0
        self.reordered = 0
        self.highest = -1
        self.seen: set[int] = set()

    def add(self, seq: int) -> str:
        """Records ``seq``: returns "duplicate", "reordered" or "" (in order)."""
        if seq in self.seen:
            self.duplicates += 1
            return "duplicate"
        self.received += 1
        self.seen.add(seq)
        if seq > self.highest:
            self.highest = seq
            if len(self.seen) > 2 * SEQ_WINDOW:
                floor = seq - SEQ_WINDOW
                self.seen = {s for s in self.seen if s >= floor}
            return ""
        self.reordered += 1
        return "reordered"

    @property
    def missing(self) -> int:
        return max(self.highest + 1 - self.received, 0)


class _Device:
    __slots__ = (
        "last",
        "latency_count",
        "latency_max",
        "latency_sum",
        "status",
        "streams",
        "wills",
        "window",
    )

    def __init__(self) -> None:
        self.streams: dict[str, _Stream] = {}
        self.window: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.last: deque[dict[str, Any]] = deque(maxlen=_LAST)
        self.latency_count = 0
        self.latency_sum = 0.0
        self.latency_max = 0.0
        self.status = "unknown"
        self.wills = 0


class Receiver(ServiceClient):
    """Hears fleet ``fleet`` on the broker at ``host:port`` through ``client_loop``."""

    def __init__(
        self,
        client_loop: ClientLoop,
        host: str,
        port: int,
        *,
        fleet: str = "fleet",
        qos: int = 2,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = False,
        on_record: Callable[[dict[str, Any]], None] | None = None,
        seed: int = 0,
    ) -> None:
        self.fleet = _topic_segment("fleet", fleet)
        if qos not in (0, 1, 2) or isinstance(qos, bool):
            raise ValueError(f"qos: {qos!r} is not allowed; use 0, 1 or 2")
        self.qos = qos
        self._on_record = on_record
        self.devices: dict[str, _Device] = {}
        self.malformed = 0
        self._prefix_len = len(f"{TOPIC_ROOT}/{self.fleet}/")
        super().__init__(
            client_loop,
            host,
            port,
            client_id=client_id or f"{TOPIC_ROOT}-{self.fleet}-receiver",
            backoff=Backoff(seed=seed, device=f"receiver-{fleet}", base_s=0.2, cap_s=5.0),
            username=username,
            password=password,
            clean_session=clean_session,
        )

    def subscribed_on(self, client: paho.Client) -> None:
        client.subscribe(f"{TOPIC_ROOT}/{self.fleet}/+/+", qos=self.qos)

    def _message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        received_at = time.time()
        device_id, _, kind = message.topic[self._prefix_len :].partition("/")
        try:
            body = json.loads(message.payload)
            seq = int(body["seq"]) if kind != "status" else 0
            sent_at = float(body["sent_at"]) if kind != "status" else 0.0
        except (ValueError, KeyError, TypeError):
            self.malformed += 1
            return
        device = self.devices.get(device_id)
        if device is None:
            device = self.devices[device_id] = _Device()
        if kind == "status":
            device.status = str(body.get("status", "unknown"))
            if body.get("reason") == "lost" and not message.retain:
                device.wills += 1
            return
        stream = device.streams.get(kind)
        if stream is None:
            stream = device.streams[kind] = _Stream()
        order = stream.add(seq)
        latency_ms = (received_at - sent_at) * 1000.0
        if order != "duplicate":
            device.window.append(latency_ms)
            device.latency_count += 1
            device.latency_sum += latency_ms
            device.latency_max = max(device.latency_max, latency_ms)
        record = {
            "device": device_id,
            "type": kind,
            "seq": seq,
            "sent_at": sent_at,
            "received_at": received_at,
            "latency_ms": latency_ms,
            "qos": message.qos,
            "order": order,
            "flushed": bool(body.get("flushed", False)),
        }
        device.last.append(record)
        if self._on_record is not None:
            self._on_record(record)

    # metrics ---------------------------------------------------------------------------------

    def metrics(self, device_id: str) -> dict[str, Any]:
        """Delivery of one device as seen here: received, duplicates, reordered, missing per
        type; latency mean / max (all messages), p50 / p99 (the window); broker status; wills."""
        device = self.devices.get(str(device_id))
        if device is None:
            raise KeyError(device_id)
        window = np.fromiter(device.window, float, len(device.window))
        return {
            "device": str(device_id),
            "broker_status": device.status,
            "wills": device.wills,
            "received": sum(s.received for s in device.streams.values()),
            "duplicates": sum(s.duplicates for s in device.streams.values()),
            "reordered": sum(s.reordered for s in device.streams.values()),
            "missing": sum(s.missing for s in device.streams.values()),
            "by_type": {
                kind: {
                    "received": s.received,
                    "duplicates": s.duplicates,
                    "reordered": s.reordered,
                    "missing": s.missing,
                    "highest_seq": s.highest,
                }
                for kind, s in device.streams.items()
            },
            "latency_ms": {
                "count": device.latency_count,
                "mean": device.latency_sum / device.latency_count if device.latency_count else math.nan,
                "p50": float(np.percentile(window, 50)) if len(window) else math.nan,
                "p99": float(np.percentile(window, 99)) if len(window) else math.nan,
                "max": device.latency_max if device.latency_count else math.nan,
            },
            "last": list(device.last),
        }

    def totals(self) -> dict[str, int]:
        """Messages received, duplicates, reordered, missing and wills over every device."""
        out = {
            "devices": len(self.devices),
            "received": 0,
            "duplicates": 0,
            "reordered": 0,
            "missing": 0,
            "wills": 0,
            "malformed": self.malformed,
        }
        for device in self.devices.values():
            out["wills"] += device.wills
            for s in device.streams.values():
                out["received"] += s.received
                out["duplicates"] += s.duplicates
                out["reordered"] += s.reordered
                out["missing"] += s.missing
        return out
