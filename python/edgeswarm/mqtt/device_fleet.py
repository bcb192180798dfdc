"""A fleet (or one shard of it) of MQTT devices on one event loop, with seeded failures.

``MqttFleet`` owns devices ``first .. first + count - 1`` of a fleet of ``total`` devices (a shard
``i/N`` owns the contiguous range :func:`shard_range` gives, so N processes together run the
whole fleet with no device twice). Telemetry comes from :class:`edgeswarm.fleet.Fleet`'s sensor
models with the fleet's seed — row ``index`` of the same seeded fleet, whichever shard runs it —
read at ``k * telemetry_s`` for the device's k-th reading. Sends are spread over each period: the
device at position p of the shard first sends ``p / count`` of a period after the start, so a
fleet at 1 Hz offers an even load rather than one burst a second.

Failures follow the :class:`~edgeswarm.mqtt.faults.FailureSchedule` (seeded per device): the
device's network stops at each outage's start and comes back at its end. Every status change is
an event ``{t_s, device, event, detail}`` (t_s from the fleet's start), kept in a bounded log and
handed to ``on_event``.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from edgeswarm._validate import require_int
from edgeswarm.fleet.devices import SENSOR_TYPES, SENSOR_UNITS, Fleet
from edgeswarm.mqtt.client_loop import ClientLoop
from edgeswarm.mqtt.device import DeviceOptions, MqttDevice
from edgeswarm.mqtt.faults import FailureSchedule

__all__ = ["MqttFleet", "parse_shard", "shard_range"]

_EVENTS_KEPT = 10_000
_FAILURE_WINDOW_S = 3600.0  # failures are planned an hour ahead in open-ended runs


def shard_range(total: int, shard: int, shards: int) -> range:
    """Devices of shard ``shard`` (0-based) of ``shards``: a contiguous range; sizes differ by ≤ 1."""
    total = require_int("devices", total, minimum=1)
    shards = require_int("shards", shards, minimum=1, maximum=total)
    shard = require_int("shard", shard, minimum=0, maximum=shards - 1)
    return range(shard * total // shards, (shard + 1) * total // shards)


def parse_shard(text: str, *, hostname: str | None = None) -> tuple[int, int]:
    """``"i/N"`` as (i, N); ``"auto/N"`` takes i from the trailing number of ``hostname`` (a
    Kubernetes StatefulSet names its pods ``<set>-<ordinal>``)."""
    match = re.fullmatch(r"(\d+|auto)/(\d+)", text.strip())
    if match is None:
        raise ValueError(f"shard: {text!r} is not allowed; use I/N (0 <= I < N) or auto/N")
    shards = int(match.group(2))
    if match.group(1) == "auto":
        ordinal = re.search(r"(\d+)$", hostname or "")
        if ordinal is None:
            raise ValueError(f"shard: auto/{shards} needs a hostname ending in a number, got {hostname!r}")
        shard = int(ordinal.group(1))
    else:
        shard = int(match.group(1))
    if shards < 1 or shard >= shards:
        raise ValueError(f"shard: {text!r} is out of range; allowed I/N with 0 <= I < N")
    return shard, shards


class _Readings:
    """Telemetry fields of each device's k-th reading, one C++ call per tick for the whole fleet."""

    def __init__(self, fleet: Fleet, period_s: float, first: int, count: int) -> None:
        self._fleet = fleet
        self._period_s = period_s
        self._first = first
        self._ticks = np.zeros(count, np.int64)
        self._cache: dict[int, np.ndarray] = {}
        codes = fleet.sensor_codes()
        self._sensor = [SENSOR_TYPES[c] for c in codes[first : first + count]]

    def __call__(self, index: int) -> dict[str, Any] | None:
        row = index - self._first
        k = int(self._ticks[row])
        self._ticks[row] = k + 1
        values = self._cache.get(k)
        if values is None:
            values = self._fleet.readings(1, dt_s=self._period_s, t0_s=k * self._period_s).values[:, 0]
            self._cache[k] = values
            for old in [t for t in self._cache if t < k - 2]:  # devices are at most a tick apart
                del self._cache[old]
        value = float(values[index])
        if math.isnan(value):  # dropout, failed sensor or empty battery: nothing to report
            return None
        sensor = self._sensor[row]
        return {"sensor": sensor, "unit": SENSOR_UNITS[sensor], "value": value, "t_s": k * self._period_s}


class MqttFleet:
    """``count`` devices from ``first`` of a ``total``-device fleet on the broker ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        total: int,
        first: int = 0,
        count: int | None = None,
        options: DeviceOptions | None = None,
        failures: FailureSchedule | None = None,
        client_loop: ClientLoop | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.total = require_int("devices", total, minimum=1, maximum=1_000_000)
        self.first = require_int("first", first, minimum=0, maximum=self.total - 1)
        count = self.total - self.first if count is None else count
        self.count = require_int("count", count, minimum=1, maximum=self.total - self.first)
        self.options = options or DeviceOptions()
        self.failures = failures or FailureSchedule()
        self.host, self.port = host, port
        self._client_loop = client_loop
        self._on_event = on_event
        self.events: deque[dict[str, Any]] = deque(maxlen=_EVENTS_KEPT)
        self.devices: dict[str, MqttDevice] = {}
        self._start = 0.0
        self._planned_to = 0.0
        self._outage_end: dict[tuple[int, float], float] = {}  # (device, start) -> end of a planned outage
        self._timers: list[asyncio.TimerHandle] = []
        self.sensors = Fleet(self.total, seed=self.options.seed)

    @property
    def client_loop(self) -> ClientLoop:
        if self._client_loop is None:
            raise RuntimeError("the fleet is not started")
        return self._client_loop

    def start(self, *, horizon_s: float | None = None) -> None:
        """Creates and connects the devices (call from the running event loop). ``horizon_s``
        bounds the failure plan of a timed run; open-ended runs plan an hour ahead."""
        if self._client_loop is None:
            self._client_loop = ClientLoop()
        loop = self._client_loop.loop
        self._start = loop.time()
        readings = _Readings(self.sensors, self.options.telemetry_s or 1.0, self.first, self.count)
        for position, index in enumerate(range(self.first, self.first + self.count)):
            device = MqttDevice(
                index,
                self.options,
                self._client_loop,
                self.host,
                self.port,
                reading=readings if self.options.telemetry_s > 0 else None,
                on_event=self._event,
            )
            self.devices[device.id] = device
            device.start(phase=position / self.count)
        self._plan_failures(horizon_s)

    def _plan_failures(self, horizon_s: float | None) -> None:
        if self.failures.fail_prob == 0.0:
            return
        loop = self.client_loop.loop
        end = horizon_s if horizon_s is not None else self._planned_to + _FAILURE_WINDOW_S
        outages = self.failures.fleet(
            range(self.first, self.first + self.count), seed=self.options.seed, horizon_s=end
        )
        for device, start_s, end_s in zip(outages.device, outages.start_s, outages.end_s, strict=True):
            key = (int(device), float(start_s))
            if start_s < self._planned_to:  # planned in an earlier window
                if key not in self._outage_end or end_s <= self._outage_end[key]:
                    continue  # over, or unchanged
                # else: merged with a hit of this window, it ends later: move its recovery
            else:
                self._timers.append(loop.call_at(self._start + start_s, self._fail, key[0]))
            self._outage_end[key] = float(end_s)
            self._timers.append(loop.call_at(self._start + end_s, self._recover, key, float(end_s)))
        self._planned_to = end
        if horizon_s is None:
            self._timers.append(loop.call_at(self._start + end - 60.0, self._plan_failures, None))

    def _fail(self, index: int) -> None:
        self.devices[str(index)].fail()

    def _recover(self, key: tuple[int, float], end_s: float) -> None:
        if self._outage_end.get(key) == end_s:  # not moved later by a merge
            del self._outage_end[key]
            self.devices[str(key[0])].recover()

    def _event(self, device: MqttDevice, event: str, detail: str) -> None:
        record = {
            "t_s": self.client_loop.loop.time() - self._start,
            "device": device.id,
            "event": event,
            "detail": detail,
        }
        self.events.append(record)
        if self._on_event is not None:
            self._on_event(record)

    def stop(self) -> None:
        """Stops every device cleanly (retained ``offline``, DISCONNECT) and cancels the plan."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for device in self.devices.values():
            device.stop()

    def statuses(self) -> dict[str, int]:
        """How many devices are in each status."""
        out: dict[str, int] = {}
        for device in self.devices.values():
            out[device.status] = out.get(device.status, 0) + 1
        return out

    def totals(self) -> dict[str, int]:
        """The devices' counters summed."""
        out: dict[str, int] = {}
        for device in self.devices.values():
            for key, value in device.counters.items():
                out[key] = out.get(key, 0) + value
        out["buffered"] = sum(len(d.buffer) for d in self.devices.values())
        return out
