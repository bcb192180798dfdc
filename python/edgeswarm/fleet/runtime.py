"""The service's edge fleet: devices, streaming ML, alerts, emergencies, clusters, uplinks.

:class:`EdgeRuntime` owns a seeded :class:`edgeswarm.fleet.Fleet` of ``devices`` devices
(ids ``dev-0000`` …) plus the devices an admin added (each a one-device fleet of its own,
seeded from the runtime seed and its id, persisted in the store and restored at start).
The service's engine calls :meth:`EdgeRuntime.tick` once per epoch with the simulated time
``t_s``; each tick

1. delivers the uplink messages that became due (:class:`DeviceLink`);
2. advances device time to ``t_s * time_scale`` (a time-lapse: one device-minute per 500 ms
   epoch with the EdgeOptions default, ten with the service settings' demo default) and generates every device's new readings, one reading per
   ``sample_s`` device-seconds, in one batched C++ call for the generated fleet;
3. runs each streaming detector of ``models`` (named configurations of
   :data:`edgeswarm.ml.registry.DETECTORS`, by default its ``EDGE_DETECTORS``) once per device on that device's new
   readings (one batched call each, never one call per sample) and records counts, time
   per sample and the confusion against the fleet's injected-fault labels
   (:class:`~edgeswarm.ml.model_tracking.ModelTracker`, one ``record_fleet`` call per model);
4. evaluates the alert rules (issue defaults: temperature 15-35 degC, humidity 20-80 %,
   battery 10-100 %, vibration 0-5 g) and emits an ``alert`` message when a (device, alert
   type) becomes active or escalates;
5. advances the Raft-backed :class:`~edgeswarm.emergency.EmergencyCoordinator` by the
   simulated time elapsed (deterministic: no wall clock), reports commits and failures, and
   proposes one emergency per (alert type, cluster) for devices that newly reached a
   critical alert and are not yet covered by an open emergency of that type; such an
   emergency is resolved once none of its devices still has an alert of its type ("alerts
   cleared", or "devices failed (no readings)" when every one of them has worn out);
6. sends each online device's telemetry message through its seeded link;
7. returns the messages to broadcast: ``alert``, ``emergency`` and an ``edge`` summary.

Same seed, same settings and the same calls give the same messages. Every public method
holds one lock: the engine ticks from a worker thread while requests read.

An ``uplink`` given to the constructor replaces the :class:`DeviceLink` and carries the readings
themselves (:class:`ReadingsUplink`; the service's MQTT bridge, ``service/mqtt_bridge.py``): at
step 6 each online device publishes its readings of the tick through it, and at the next tick
steps 3-4 run on what arrived instead of on what was generated. A device whose message did not
arrive by then has its readings *missing* (``readings.missing``; NaN to the detectors, no alert,
its last value kept), like a lost uplink message; one that arrives later is not used.
"""

from __future__ import annotations

import inspect
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import numpy as np
import pandas as pd

from edgeswarm import _seeds
from edgeswarm._json import json_safe
from edgeswarm._validate import require_choice
from edgeswarm.fleet.devices import (
    ALERT_TYPES,
    DEVICE_TYPES,
    FAULT_LABELS,
    SENSOR_TYPES,
    AlertRules,
    Fleet,
)
from edgeswarm.fleet.devices import cluster as cluster_by_location
from edgeswarm.fleet.emergency import (
    EMERGENCY_STATUSES,
    LIVE_STATUSES,
    PENDING_STATUSES,
    SEVERITIES,
    Emergency,
    EmergencyCoordinator,
)
from edgeswarm.fleet.link import DeviceLink, LinkOptions
from edgeswarm.ml.model_tracking import ModelTracker
from edgeswarm.ml.registry import DETECTORS, EDGE_DETECTORS

__all__ = [
    "DeviceConflict",
    "EdgeOptions",
    "EdgeRuntime",
    "ReadingsUplink",
    "UnknownItem",
    "detector_seed",
]

_SEVERITY_NAMES = ("none", "warning", "critical")
#: Keys of the emergency records this runtime stores (others in the store are not ours).
_RECORD_KEYS = frozenset(
    {"id", "type", "severity", "zone", "affected_devices", "action", "time", "cluster_id", "source"}
    | {"reported_by", "status", "resolved", "raised_epoch", "raised_t_s"}
)
_CRITICAL = 2
#: Statuses of a proposal still in flight (it may yet commit).
_IN_FLIGHT = tuple(s for s in PENDING_STATUSES if s != "failed")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: Metrics the alert rules watch on readings (battery is watched on every device).
_READING_METRICS = ("temperature", "humidity", "vibration")
#: Service settings read by the runtime → the EdgeOptions field each sets (when present).
_SETTINGS = {
    "devices": "devices",
    "seed": "seed",
    "epoch_ms": "epoch_ms",
    "edge_time_scale": "time_scale",
    "edge_fault_rate_per_day": "fault_rate_per_day",
    "edge_wear_fraction": "wear_fraction",
    "edge_wear_horizon_days": "wear_horizon_days",
}


def detector_seed(seed: int, row: int) -> int:
    """Seed of device row ``row``'s detectors under the runtime seed (see :mod:`edgeswarm._seeds`)."""
    return _seeds.derive(seed, _seeds.DETECTOR, row)


class UnknownItem(LookupError):
    """A device, cluster or emergency id that does not exist (the API answers 404)."""


class DeviceConflict(ValueError):
    """A device id that is already taken (the API answers 409)."""


@dataclass(frozen=True)
class EdgeOptions:
    """Runtime options; :class:`EdgeRuntime` takes ``devices``, ``seed`` and ``epoch_ms`` from
    the service settings and the rest from keyword arguments."""

    devices: int = 50
    seed: int = 0
    epoch_ms: int = 500
    time_scale: float = 120.0  # device seconds per simulated service second
    sample_s: float = 10.0  # one reading per device every sample_s device-seconds
    max_samples_per_tick: int = 360  # beyond this (a stalled loop) older samples are skipped
    prefetch_ticks: int = 16  # readings are generated this many ticks ahead, in one call
    n_clusters: int | None = None  # None: round(sqrt(devices / 2))
    group_size: int = 5  # Raft voters per cluster
    area_m: float = 1000.0
    # Fleet defaults (edgeswarm.fleet.Fleet); the service settings make the demo livelier.
    fault_rate_per_day: float = 0.5  # injected faults per device per day (device time)
    wear_fraction: float = 0.05  # share of devices that wear out and fail ...
    wear_horizon_days: float = 30.0  # ... within this many device-days
    models: tuple[str, ...] = EDGE_DETECTORS  # names of edgeswarm.ml.registry.DETECTORS
    alert_rules: AlertRules = field(default_factory=AlertRules)
    link: LinkOptions = field(default_factory=LinkOptions)
    max_alert_messages: int = 50  # per tick; the rest are counted in alerts.suppressed
    max_raft_step_ms: float = 2000.0  # longer gaps between ticks are not replayed in Raft

    def __post_init__(self) -> None:
        if not 1 <= self.devices <= 1_000_000:
            raise ValueError(f"devices: {self.devices} is out of range; allowed 1..1000000")
        if not 0 <= self.seed < 2**64:
            raise ValueError(f"seed: {self.seed} is out of range; allowed 0..2^64-1")
        if self.epoch_ms <= 0:
            raise ValueError(f"epoch_ms: {self.epoch_ms} is out of range; allowed > 0")
        if not (math.isfinite(self.fault_rate_per_day) and 0 <= self.fault_rate_per_day <= 24):
            raise ValueError(f"fault_rate_per_day: {self.fault_rate_per_day} is out of range; allowed 0..24")
        if not (math.isfinite(self.wear_fraction) and 0 <= self.wear_fraction <= 1):
            raise ValueError(f"wear_fraction: {self.wear_fraction} is out of range; allowed 0..1")
        for name in ("time_scale", "sample_s", "area_m", "max_raft_step_ms", "wear_horizon_days"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: {value} is out of range; allowed a finite number > 0")
        if self.prefetch_ticks < 1:
            raise ValueError(f"prefetch_ticks: {self.prefetch_ticks} is out of range; allowed >= 1")
        if self.max_samples_per_tick < 1:
            raise ValueError(
                f"max_samples_per_tick: {self.max_samples_per_tick} is out of range; allowed >= 1"
            )
        if self.n_clusters is not None and self.n_clusters < 1:
            raise ValueError(f"n_clusters: {self.n_clusters} is out of range; allowed >= 1")
        unknown = [m for m in self.models if m not in DETECTORS]
        if unknown or not self.models or len(set(self.models)) != len(self.models):
            raise ValueError(
                f"models: {list(self.models)!r} must be distinct names of the detector registry, "
                f"one or more of {list(DETECTORS)}"
            )


@dataclass(frozen=True)
class _Block:
    """Readings generated ahead: samples [start, end) of every device, graded by the rules."""

    start: int
    values: np.ndarray
    labels: np.ndarray
    types: np.ndarray
    severities: np.ndarray

    @property
    def end(self) -> int:
        return self.start + self.values.shape[1]


@dataclass(frozen=True)
class _Batch:
    """The readings of samples [start, start + steps) of every device, with their grades."""

    start: int
    values: np.ndarray
    labels: np.ndarray
    types: np.ndarray
    severities: np.ndarray
    times: np.ndarray
    arrived: np.ndarray | None = None  # carried: which rows arrived (None: every row, not carried)


class ReadingsUplink(Protocol):
    """An uplink that carries the readings (see the module docstring); rows are device rows."""

    def grow(self, n: int) -> None:
        """Extends the uplink to ``n`` devices."""

    def publish_readings(self, rows: np.ndarray, start: int, values: np.ndarray) -> None:
        """Each device of ``rows`` sends its readings ``values[i]`` of samples ``start ..``."""

    def delivered_readings(self, start: int, steps: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """What arrived of the readings of samples ``start .. start + steps`` published last:
        (values of shape (n, steps), arrived flags of shape (n,)); rows that did not arrive are NaN."""

    def new_device_refusal(self) -> str | None:
        """Why no device can be added now (None: it can)."""

    def metrics(self, row: int) -> dict[str, Any]:
        """One device's uplink figures."""

    def totals(self) -> dict[str, Any]:
        """The uplink's figures summed over devices."""


@dataclass
class _AdminDevice:
    spec: dict[str, Any]
    fleet: Fleet


class _MemoryStore:
    """In-process stand-in for the service store (used when no store is given)."""

    def __init__(self) -> None:
        self._devices: dict[str, dict[str, Any]] = {}
        self._emergencies: dict[str, dict[str, Any]] = {}

    def upsert_device(self, device: dict[str, Any]) -> None:
        self._devices[device["id"]] = dict(device)

    def devices(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self._devices.values()]

    def device(self, device_id: str) -> dict[str, Any] | None:
        d = self._devices.get(device_id)
        return None if d is None else dict(d)

    def add_emergency(self, emergency: dict[str, Any]) -> None:
        self._emergencies[emergency["id"]] = dict(emergency)

    def update_emergency(self, emergency_id: str, emergency: dict[str, Any]) -> None:
        self._emergencies[emergency_id] = {**self._emergencies.get(emergency_id, {}), **emergency}

    def emergencies(self, limit: int = 100) -> list[dict[str, Any]]:
        return [dict(e) for e in list(self._emergencies.values())[::-1][:limit]]


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class EdgeRuntime:
    """The edge fleet behind ``/api/edge/*`` and ``/api/devices/*`` (see the module docstring).

    ``settings`` is the service settings (``devices``, ``seed``, ``epoch_ms`` and the
    ``edge_*`` fleet settings are read from it when present, see ``_SETTINGS``); keyword
    ``options`` override them (any :class:`EdgeOptions` field).
    ``store`` persists admin-added devices and emergencies (an in-memory one when None).
    ``hub_publish`` (a function or coroutine function taking one message) lets
    :meth:`broadcast` send operator-triggered messages at once; without it they wait in an
    outbox and go out with the next tick's messages.
    ``uplink`` carries the readings in place of the seeded :class:`DeviceLink` (module docstring).
    """

    def __init__(
        self,
        settings: Any = None,
        store: Any = None,
        hub_publish: Callable[[dict[str, Any]], Any] | None = None,
        *,
        uplink: ReadingsUplink | None = None,
        **options: Any,
    ) -> None:
        base = {
            option: getattr(settings, name)
            for name, option in _SETTINGS.items()
            if settings is not None and getattr(settings, name, None) is not None
        }
        unknown = sorted(set(options) - set(EdgeOptions.__dataclass_fields__))
        if unknown:
            raise ValueError(
                f"options: unknown {unknown}; allowed {sorted(EdgeOptions.__dataclass_fields__)}"
            )
        self.options = EdgeOptions(**{**base, **options})
        self._store = store if store is not None else _MemoryStore()
        self._hub_publish = hub_publish
        self._lock = threading.RLock()
        self._summary_cache: dict[str, Any] | None = None
        o = self.options
        self._rules = o.alert_rules
        self._fleet = Fleet(o.devices, seed=o.seed, **self._fleet_options())
        width = max(4, len(str(o.devices - 1)))
        self._ids: list[str] = [f"dev-{i:0{width}d}" for i in range(o.devices)]
        self._admin: list[_AdminDevice] = []
        self._tracker = ModelTracker(threshold=0.5, models=o.models, fault_labels=FAULT_LABELS)
        self._carried = uplink is not None  # the readings travel over the uplink (and may not arrive)
        self._link: Any = DeviceLink(o.devices, seed=o.seed, options=o.link) if uplink is None else uplink
        self._outgoing: _Batch | None = None  # carried: this tick's readings, published at step 6
        self._detectors: dict[str, list[Any]] = {m: [] for m in o.models}
        self._epoch = 0
        self._t_s = 0.0
        self._next_sample = 0  # index of the next reading on the device clock
        self._block: _Block | None = None
        self._readings = {"total": 0, "invalid": 0, "skipped": 0}
        if self._carried:
            self._readings["missing"] = 0  # generated, not arrived by the next tick
        self._active: dict[tuple[int, int], dict[str, Any]] = {}  # (row, alert code) → alert
        self._recent_alerts: deque[dict[str, Any]] = deque(maxlen=200)
        self._alerts_raised = 0
        self._alerts_suppressed = 0
        self._emergencies: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, Emergency] = {}  # proposed, not yet seen committed
        self._covered: dict[tuple[str, str], str] = {}  # (alert type, device) → open emergency id
        self._outbox: list[dict[str, Any]] = []
        self._grow_rows(o.devices)

        positions = self._fleet.positions()
        k = o.n_clusters or max(1, round(math.sqrt(o.devices / 2)))
        found = cluster_by_location(positions, k=min(k, o.devices), seed=o.seed)
        # The generated fleet's k-means centroids: admin-added devices join the nearest of these.
        # Reported centroids and heads are the coordinator's (over every device of a cluster).
        self._centroids = np.asarray(found.centroids, np.float64)
        self._labels = np.asarray(found.labels, np.int64)
        self._positions = positions

        self._store_skipped = {"devices": 0, "emergencies": 0}  # stored rows not written by us
        stored = []
        for spec in self._store.devices():
            try:
                self._check_device(**{k: spec.get(k) for k in ("id", "device_type", "sensor", "x", "y")})
            except (ValueError, TypeError, AttributeError):
                self._store_skipped["devices"] += 1
                continue
            if spec["id"] in self._row_of:
                self._store_skipped["devices"] += 1  # the generated fleet now uses that id
                continue
            stored.append(spec)
        for spec in sorted(stored, key=lambda d: (d["seq"] if isinstance(d.get("seq"), int) else 0, d["id"])):
            self._attach(spec)
        self._restore_emergencies()
        self._build_coordinator()
        self._last_values = np.full(len(self._ids), np.nan)
        self._last_labels = np.zeros(len(self._ids), np.uint8)
        self._last_reading_s = np.full(len(self._ids), np.nan)
        self._table = self._device_table(0.0)

    # ------------------------------------------------------------------ structure

    @property
    def n_devices(self) -> int:
        """Devices, generated and admin-added."""
        return len(self._ids)

    @property
    def device_time_s(self) -> float:
        """Device clock of the latest reading generated (0 before the first tick)."""
        return max(self._next_sample - 1, 0) * self.options.sample_s

    def _grow_rows(self, n: int) -> None:
        start = len(next(iter(self._detectors.values())))
        for model, detectors in self._detectors.items():
            for row in range(start, n):
                detectors.append(DETECTORS[model].create(detector_seed(self.options.seed, row)))
        self._row_of = {d: r for r, d in enumerate(self._ids)}
        self._tracker.add_devices(self._ids)
        self._link.grow(n)

    def _fleet_options(self) -> dict[str, float]:
        o = self.options
        return {
            "area_m": o.area_m,
            "report_interval_s": o.sample_s,
            "fault_rate_per_day": o.fault_rate_per_day,
            "wear_fraction": o.wear_fraction,
            "wear_horizon_days": o.wear_horizon_days,
        }

    def _attach(self, spec: dict[str, Any]) -> None:
        fleet = Fleet(
            1,
            seed=_seeds.derive(self.options.seed, _seeds.ADMIN_DEVICE, _seeds.text_id(spec["id"])),
            device_mix={spec["device_type"]: 1.0},
            sensor=spec["sensor"],
            **self._fleet_options(),
        )
        self._admin.append(_AdminDevice(spec, fleet))
        self._ids.append(spec["id"])
        point = np.array([[float(spec["x"]), float(spec["y"])]])
        self._positions = np.vstack([self._positions, point])
        # New devices join the nearest existing cluster, so the others keep theirs.
        nearest = int(np.argmin(((self._centroids - point) ** 2).sum(axis=1)))
        self._labels = np.append(self._labels, nearest)
        self._grow_rows(len(self._ids))

    def _build_coordinator(self) -> None:
        self._coordinator = EmergencyCoordinator(
            clusters={d: int(c) for d, c in zip(self._ids, self._labels, strict=True)},
            positions={d: self._positions[r] for r, d in enumerate(self._ids)},
            group_size=self.options.group_size,
            seed=self.options.seed,
        )
        # Proposals that were in flight in a replaced coordinator are proposed again.
        for emergency in self._pending.values():
            record = self._emergencies[emergency.id]
            self._coordinator.propose(emergency, cluster_id=record["cluster_id"])

    def _restore_emergencies(self) -> None:
        # The store lists newest first; records are kept oldest first.
        for stored in reversed(self._store.emergencies(limit=100_000)):
            if not isinstance(stored, dict) or not set(stored) >= _RECORD_KEYS:
                self._store_skipped["emergencies"] += 1  # not one of ours
                continue
            record = dict(stored)
            if record["status"] in _IN_FLIGHT:
                # Its Raft group died with the previous process before it was seen committed.
                record["status"] = "abandoned"
                self._store.update_emergency(record["id"], record)
            self._emergencies[record["id"]] = record
            if self._is_open(record) and record["source"] == "alert":
                for d in record["affected_devices"]:
                    self._covered[(record["type"], d)] = record["id"]

    # ------------------------------------------------------------------ the tick

    def tick(self, epoch: int, t_s: float) -> list[dict[str, Any]]:
        """Advances the fleet to simulated time ``t_s`` (seconds) at ``epoch``; returns the
        messages to broadcast (see the module docstring)."""
        with self._lock:
            self._summary_cache = None  # state changes: the next summary() recomputes
            messages = self._outbox
            self._outbox = []
            dt_s = max(float(t_s) - self._t_s, 0.0)
            self._epoch, self._t_s = int(epoch), float(t_s)
            if self._carried:  # consume what arrived of the readings published last tick
                batch, self._outgoing = self._arrived(), self._generate()
            else:
                self._link.deliver(self._t_s)
                batch = self._generate()
            values, labels, types, severities, times = self._consume(batch)
            self._table = self._device_table(self.device_time_s)
            if values is not None:
                self._run_models(values, labels)
                alerts, newly_critical = self._update_alerts(values, types, severities, times)
                messages += alerts
                messages += self._resolve_cleared()
            else:
                newly_critical = []
            self._coordinator.advance(min(dt_s * 1000.0, self.options.max_raft_step_ms))
            messages += self._follow_proposals()
            messages += self._raise_from_alerts(newly_critical)
            online = self._table["online"].to_numpy(bool)
            rows = np.flatnonzero(online)
            if not self._carried:
                self._link.send(
                    rows, self._table["signal_strength"].to_numpy()[rows], online[rows], self._t_s
                )
            elif self._outgoing is not None:
                self._link.publish_readings(rows, self._outgoing.start, self._outgoing.values[rows])
            messages.append({"type": "edge", "data": self._summary()})
            return json_safe(messages)

    def _generate(self) -> _Batch | None:
        """This tick's new readings (None when no sample time passed)."""
        o = self.options
        device_t = self._t_s * o.time_scale
        end = math.floor(device_t / o.sample_s + 1e-9) + 1  # samples k with k * sample_s <= device_t
        steps = end - self._next_sample
        if steps <= 0:
            return None
        if steps > o.max_samples_per_tick:
            self._readings["skipped"] += (steps - o.max_samples_per_tick) * self.n_devices
            self._next_sample = end - o.max_samples_per_tick
            steps = o.max_samples_per_tick
        start = self._next_sample
        self._next_sample = end
        values, labels, types, severities = self._block_readings(start, end)
        times = np.arange(start, end, dtype=np.float64) * o.sample_s
        return _Batch(start, values, labels, types, severities, times)

    def _arrived(self) -> _Batch | None:
        """Carried: the readings published last tick as they arrived (missing rows NaN, ungraded)."""
        sent = self._outgoing
        if sent is None:
            return None
        n, steps = sent.values.shape
        values, arrived = self._link.delivered_readings(sent.start, steps, n)
        arrived = np.asarray(arrived, bool)
        # A reading that never arrived raises no alert; its ground-truth label stays for the lab.
        types, severities = sent.types.copy(), sent.severities.copy()
        types[~arrived], severities[~arrived] = 0, 0
        values = np.asarray(values, np.float64)
        return _Batch(sent.start, values, sent.labels, types, severities, sent.times, arrived)

    def _consume(self, batch: _Batch | None) -> tuple[Any, ...]:
        """The readings steps 3-4 run on, with the readings counters and each device's latest value."""
        if batch is None:
            return None, None, None, None, None
        values, labels, times = batch.values, batch.labels, batch.times
        steps = values.shape[1]
        finite = np.isfinite(values)
        self._readings["total"] += values.size
        if batch.arrived is None:
            self._readings["invalid"] += int(values.size - finite.sum())
            self._last_values = values[:, -1].copy()
            self._last_labels = labels[:, -1].copy()
        else:  # missing readings are not invalid ones; a device whose readings did not arrive keeps its last
            missing = int((~batch.arrived).sum()) * steps
            self._readings["missing"] += missing
            self._readings["invalid"] += int(values.size - finite.sum()) - missing
            self._last_values = np.where(batch.arrived, values[:, -1], self._last_values)
            self._last_labels = np.where(batch.arrived, labels[:, -1], self._last_labels)
        # Time of each device's latest finite reading (NaN if it never gave one).
        last_finite = np.where(finite.any(axis=1), steps - 1 - np.argmax(finite[:, ::-1], axis=1), -1)
        fresh = np.where(last_finite >= 0, times[np.maximum(last_finite, 0)], np.nan)
        self._last_reading_s = np.where(np.isnan(fresh), self._last_reading_s, fresh)
        return values, labels, batch.types, batch.severities, times

    def _block_readings(self, start: int, end: int) -> tuple[np.ndarray, ...]:
        """Readings of samples [start, end) of every device, with their alert type and
        severity codes. They are generated and graded ahead in blocks of ``prefetch_ticks``
        ticks (readings are pure functions of time), so most ticks call no engine code."""
        o = self.options
        b = self._block
        if b is None or not (b.start <= start and end <= b.end and b.values.shape[0] == self.n_devices):
            per_tick = math.ceil(o.epoch_ms / 1000.0 * o.time_scale / o.sample_s)
            steps = max(end - start, per_tick * o.prefetch_ticks)
            t0 = start * o.sample_s
            parts = [self._fleet.readings(steps, dt_s=o.sample_s, t0_s=t0)]
            parts += [a.fleet.readings(steps, dt_s=o.sample_s, t0_s=t0) for a in self._admin]
            values = np.vstack([p.values for p in parts])
            b = self._block = _Block(
                start, values, np.vstack([p.labels for p in parts]), *self._grade(values)
            )
        cols = slice(start - b.start, end - b.start)
        return b.values[:, cols], b.labels[:, cols], b.types[:, cols], b.severities[:, cols]

    def _grade(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Alert type and severity codes of the readings of watched sensors (zero elsewhere);
        only rows with a value beyond a limit go to the rules."""
        types = np.zeros(values.shape, np.uint8)
        severities = np.zeros(values.shape, np.uint8)
        sensors = self._sensors()
        for metric in _READING_METRICS:
            rows = np.flatnonzero(sensors == metric)
            low, high = getattr(self._rules, f"{metric}_low"), getattr(self._rules, f"{metric}_high")
            rows = rows[((values[rows] < low) | (values[rows] > high)).any(axis=1)]
            if rows.size:
                types[rows], severities[rows] = self._rules.codes(values[rows], metric=metric)
        return types, severities

    def _sensors(self) -> np.ndarray:
        codes = np.concatenate([self._fleet.sensor_codes(), [a.fleet.sensor_codes()[0] for a in self._admin]])
        return np.array(SENSOR_TYPES)[codes.astype(np.int64)]

    def _run_models(self, values: np.ndarray, labels: np.ndarray) -> None:
        truth = labels != 0  # injected fault (spike, stuck, drift); NaN readings are not scored
        for model, detectors in self._detectors.items():
            scores = np.empty_like(values)
            confidence = np.empty_like(values)
            elapsed = np.empty(len(detectors), np.int64)
            for row, detector in enumerate(detectors):  # one batched call per device
                start = time.perf_counter_ns()
                scores[row], confidence[row] = detector.score(values[row])
                elapsed[row] = time.perf_counter_ns() - start
            self._tracker.record_fleet(model, scores, confidence, elapsed, labels=truth, kinds=labels)

    def _update_alerts(
        self, values: np.ndarray, types: np.ndarray, severities: np.ndarray, times: np.ndarray
    ) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
        """Alerts of this tick's readings: (alert messages, (row, alert code) newly critical)."""
        current: dict[tuple[int, int], dict[str, Any]] = {}
        self._collect(current, np.arange(self.n_devices), values, types, severities, times)
        # Batteries only drain between recharges: the tick's last time is its lowest.
        battery = self._table["battery"].to_numpy(np.float64)
        low = np.flatnonzero(battery < self._rules.battery_low)
        if low.size:
            b_types, b_sev = self._rules.codes(battery[low][:, None], metric="battery")
            self._collect(current, low, battery[low][:, None], b_types, b_sev, times[-1:])

        messages, newly_critical = [], []
        for key, alert in current.items():
            before = self._active.get(key)
            if before is not None and before["severity_code"] >= alert["severity_code"]:
                continue
            if alert["severity_code"] == _CRITICAL:
                newly_critical.append(key)
            self._alerts_raised += 1
            self._recent_alerts.append(alert)
            if len(messages) < self.options.max_alert_messages:
                messages.append({"type": "alert", "data": self._public_alert(alert)})
            else:
                self._alerts_suppressed += 1
        self._active = current
        return messages, newly_critical

    def _collect(
        self,
        current: dict[tuple[int, int], dict[str, Any]],
        rows: np.ndarray,
        values: np.ndarray,
        types: np.ndarray,
        sev: np.ndarray,
        times: np.ndarray,
    ) -> None:
        # Per (row, alert type): the worst severity in the tick, at its first sample.
        for code in np.unique(types[types > 0]):
            graded = np.where(types == code, sev, 0)
            worst = graded.max(axis=1)
            at = graded.argmax(axis=1)
            for i in np.flatnonzero(worst):
                kind = ALERT_TYPES[int(code)]
                current[(int(rows[i]), int(code))] = {
                    "device_id": self._ids[int(rows[i])],
                    "alert_type": kind,
                    "metric": kind.rsplit("_", 1)[0],
                    "severity": _SEVERITY_NAMES[int(worst[i])],
                    "severity_code": int(worst[i]),
                    "value": float(values[i, at[i]]),
                    "limit": float(getattr(self._rules, kind)),
                    "device_time_s": float(times[at[i]]),
                    "t_s": self._t_s,
                    "epoch": self._epoch,
                    "cluster_id": int(self._labels[int(rows[i])]),
                }

    @staticmethod
    def _public_alert(alert: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in alert.items() if k != "severity_code"}

    # ------------------------------------------------------------------ emergencies

    @staticmethod
    def _is_open(record: dict[str, Any]) -> bool:
        return not record.get("resolved") and record.get("status") in LIVE_STATUSES

    def _next_emergency_id(self) -> str:
        seq = 0
        for known in self._emergencies:
            if known.startswith("em-") and known[3:].isdigit():
                seq = max(seq, int(known[3:]))
        return f"em-{seq + 1:06d}"

    def _propose(
        self,
        *,
        kind: str,
        severity: str,
        cluster_id: int,
        devices: list[str],
        action: str,
        zone: str,
        source: str,
        reported_by: str,
    ) -> dict[str, Any]:
        emergency = Emergency(
            id=self._next_emergency_id(),
            type=kind,
            severity=severity,
            zone=zone,
            affected_devices=devices,
            action=action,
            time=self.device_time_s,
        )
        self._coordinator.propose(emergency, cluster_id=cluster_id)
        record = {
            **emergency.to_dict(),
            "cluster_id": cluster_id,
            "source": source,
            "reported_by": reported_by,
            "status": "proposed",
            "resolved": False,
            "raised_epoch": self._epoch,
            "raised_t_s": self._t_s,
            "committed_t_s": None,
            "raft_index": None,
            "resolved_t_s": None,
            "resolution": None,
        }
        self._emergencies[emergency.id] = record
        self._pending[emergency.id] = emergency
        if source == "alert":
            for d in devices:
                self._covered[(kind, d)] = emergency.id
        self._store.add_emergency(dict(record))
        return record

    def _raise_from_alerts(self, newly_critical: list[tuple[int, int]]) -> list[dict[str, Any]]:
        groups: dict[tuple[str, int], list[int]] = {}
        for row, code in sorted(newly_critical, key=lambda k: (k[1], self._labels[k[0]], k[0])):
            kind = ALERT_TYPES[code]
            if (kind, self._ids[row]) in self._covered:
                continue
            groups.setdefault((kind, int(self._labels[row])), []).append(row)
        messages = []
        for (kind, cluster_id), rows in groups.items():
            # AlertRules.emergencies gives the response action for the alert type.
            frame = pd.DataFrame(
                {"device": rows, "type": kind, "severity": "critical", "time_s": self.device_time_s}
            )
            action = AlertRules.emergencies(frame)[0]["action"]
            record = self._propose(
                kind=kind,
                severity="critical",
                cluster_id=cluster_id,
                devices=[self._ids[r] for r in rows],
                action=action,
                zone=f"cluster-{cluster_id}",
                source="alert",
                reported_by="alert-rules",
            )
            messages.append({"type": "emergency", "data": dict(record)})
        return messages

    def _follow_proposals(self) -> list[dict[str, Any]]:
        if not self._pending:
            return []
        statuses = {p["emergency"].id: p["status"] for p in self._coordinator.pending()}
        indexes: dict[int, dict[str, int]] = {}
        messages = []
        for emergency_id in list(self._pending):
            record = self._emergencies[emergency_id]
            status = statuses.get(emergency_id)
            if status == "failed":
                record["status"] = "failed"
                self._uncover(record)
            elif status is None:  # no longer pending: committed
                c = record["cluster_id"]
                if c not in indexes:
                    indexes[c] = {r["id"]: r["index"] for r in self._coordinator.records(c)}
                record["status"] = "committed"
                record["raft_index"] = indexes[c].get(emergency_id)
                record["committed_t_s"] = self._t_s
            elif status != record["status"]:  # still in flight: proposed, acknowledged or unknown
                record["status"] = status
                self._store.update_emergency(emergency_id, dict(record))
                messages.append({"type": "emergency", "data": dict(record)})
                continue
            else:
                continue
            del self._pending[emergency_id]
            self._store.update_emergency(emergency_id, dict(record))
            messages.append({"type": "emergency", "data": dict(record)})
        return messages

    def _uncover(self, record: dict[str, Any]) -> None:
        for d in record["affected_devices"]:
            if self._covered.get((record["type"], d)) == record["id"]:
                del self._covered[(record["type"], d)]

    def _resolve_cleared(self) -> list[dict[str, Any]]:
        active_types = {(self._ids[row], ALERT_TYPES[code]) for row, code in self._active}
        health = self._table["health"].to_numpy(np.float64)
        messages = []
        for record in self._emergencies.values():
            if record.get("source") != "alert" or not self._is_open(record):
                continue
            if any((d, record["type"]) in active_types for d in record["affected_devices"]):
                continue
            # A worn-out device stops alerting because it stops reading: say so.
            failed = all(health[self._row_of[d]] <= 0 for d in record["affected_devices"])
            why = "devices failed (no readings)" if failed else "alerts cleared"
            messages.append({"type": "emergency", "data": self._resolve(record, why)})
        return messages

    def _resolve(self, record: dict[str, Any], why: str) -> dict[str, Any]:
        record["resolved"] = True
        record["resolved_t_s"] = self._t_s
        record["resolution"] = why
        self._uncover(record)
        self._store.update_emergency(record["id"], dict(record))
        return dict(record)

    def raise_emergency(
        self,
        *,
        type: str,
        severity: str,
        affected_devices: Sequence[str],
        action: str = "",
        zone: str | None = None,
        cluster_id: int | None = None,
        reported_by: str = "operator",
    ) -> dict[str, Any]:
        """Proposes an operator's emergency to a cluster's Raft log (``cluster_id``, or else the
        cluster holding most of the affected devices; ties to the lower id); returns its record."""
        with self._lock:
            self._summary_cache = None  # state changes: the next summary() recomputes
            if not isinstance(type, str) or not type.strip():
                raise ValueError(f"type: {type!r} is empty; allowed a non-empty string")
            if severity not in SEVERITIES:
                raise ValueError(f"severity: {severity!r} is not one of {', '.join(SEVERITIES)}")
            devices = list(affected_devices)
            if not devices:
                raise ValueError("affected_devices: empty; allowed one or more device ids")
            if len(set(devices)) != len(devices):
                raise ValueError(f"affected_devices: {devices!r} lists a device twice")
            for d in devices:
                if d not in self._row_of:
                    raise ValueError(f"affected_devices: {d!r} is not a known device")
            labels = [int(self._labels[self._row_of[d]]) for d in devices]
            if cluster_id is None:
                counts = np.bincount(labels)
                cluster_id = int(np.argmax(counts))
            elif cluster_id not in self._coordinator.cluster_ids:
                raise ValueError(f"cluster_id: {cluster_id!r} is not one of {self._coordinator.cluster_ids}")
            record = self._propose(
                kind=type,
                severity=severity,
                cluster_id=int(cluster_id),
                devices=devices,
                action=action,
                zone=f"cluster-{cluster_id}" if zone is None else zone,
                source="operator",
                reported_by=reported_by,
            )
            return json_safe(dict(record))

    def resolve_emergency(self, emergency_id: str, *, reported_by: str = "operator") -> dict[str, Any]:
        """Marks an emergency resolved by an operator; UnknownItem when there is no such id,
        DeviceConflict when it is already resolved."""
        with self._lock:
            self._summary_cache = None  # state changes: the next summary() recomputes
            record = self._emergencies.get(emergency_id)
            if record is None:
                raise UnknownItem(f"emergency_id: {emergency_id!r} is not a known emergency")
            if record.get("resolved"):
                raise DeviceConflict(f"emergency_id: {emergency_id!r} is already resolved")
            return json_safe(self._resolve(record, f"resolved by {reported_by}"))

    def emergencies(
        self, *, limit: int = 100, status: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        """Emergency records, newest first; ``status`` (one of :data:`EMERGENCY_STATUSES`) selects."""
        if status is not None:
            require_choice("status", status, EMERGENCY_STATUSES)
        with self._lock:
            out = []
            for record in reversed(list(self._emergencies.values())):
                if status is not None and record.get("status") != status:
                    continue
                if open_only and not self._is_open(record):
                    continue
                out.append(dict(record))
                if len(out) >= limit:
                    break
            return json_safe(out)

    def emergency_list(
        self, *, limit: int = 100, status: str | None = None, open_only: bool = False
    ) -> dict[str, Any]:
        """``{"total", "open", "emergencies"}``: counts over every record, then the selection."""
        with self._lock:
            records = list(self._emergencies.values())
            return {
                "total": len(records),
                "open": sum(self._is_open(e) for e in records),
                "emergencies": self.emergencies(limit=limit, status=status, open_only=open_only),
            }

    async def broadcast(self, messages: Iterable[dict[str, Any]]) -> None:
        """Sends messages now through ``hub_publish``, or queues them for the next tick."""
        messages = json_safe(list(messages))
        if self._hub_publish is None:
            with self._lock:
                self._outbox.extend(messages)
            return
        for message in messages:
            result = self._hub_publish(message)
            if inspect.isawaitable(result):
                await result

    # ------------------------------------------------------------------ devices

    def _device_table(self, device_t_s: float) -> pd.DataFrame:
        frames = [self._fleet.devices(t_s=device_t_s).reset_index()]
        for a in self._admin:
            frame = a.fleet.devices(t_s=device_t_s).reset_index()
            frame["x"], frame["y"] = float(a.spec["x"]), float(a.spec["y"])
            frames.append(frame)
        table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        table["id"] = self._ids
        return table

    def _row(self, device_id: str) -> int:
        row = self._row_of.get(device_id)
        if row is None:
            raise UnknownItem(f"device_id: {device_id!r} is not a known device")
        return row

    def _device_row(self, row: int) -> dict[str, Any]:
        r = self._table.iloc[row]
        admin = row >= self.options.devices
        return {
            "device_id": self._ids[row],
            "name": self._admin[row - self.options.devices].spec.get("name") if admin else None,
            "source": "admin" if admin else "fleet",
            "device_type": str(r["type"]),
            "sensor": str(r["sensor"]),
            "unit": str(r["unit"]),
            "x": float(r["x"]),
            "y": float(r["y"]),
            "cluster_id": int(self._labels[row]),
            "online": bool(r["online"]),
            "battery": float(r["battery"]),
            "health": float(r["health"]),
            "signal_strength": float(r["signal_strength"]),
            "buffered": int(r["buffered"]),
            "buffer_utilisation": float(r["buffer_utilisation"]),
            "buffer_dropped": int(r["dropped"]),
            "failure_s": float(r["failure_s"]),
            "last_value": float(self._last_values[row]),
            "last_label": FAULT_LABELS[int(self._last_labels[row])],
            "last_reading_s": float(self._last_reading_s[row]),
            "active_alerts": [
                self._public_alert(a) for (r_, _), a in sorted(self._active.items()) if r_ == row
            ],
        }

    def devices(
        self,
        *,
        limit: int = 1000,
        offset: int = 0,
        device_type: str | None = None,
        sensor: str | None = None,
        online: bool | None = None,
    ) -> dict[str, Any]:
        """A page of devices in id order (generated, then admin-added) with the total matching."""
        with self._lock:
            mask = np.ones(self.n_devices, bool)
            if device_type is not None:
                mask &= self._table["type"].astype(str).to_numpy() == device_type
            if sensor is not None:
                mask &= self._table["sensor"].astype(str).to_numpy() == sensor
            if online is not None:
                mask &= self._table["online"].to_numpy(bool) == online
            rows = np.flatnonzero(mask)
            page = rows[offset : offset + limit]
            return json_safe(
                {
                    "total": int(rows.size),
                    "offset": offset,
                    "limit": limit,
                    "device_time_s": self.device_time_s,
                    "devices": [self._device_row(int(r)) for r in page],
                }
            )

    def row_of(self, device_id: str) -> int:
        """The device's row (UnknownItem for an unknown id): its index in the uplink."""
        with self._lock:
            return self._row(device_id)

    def device(self, device_id: str) -> dict[str, Any]:
        """One device's state (UnknownItem for an unknown id)."""
        with self._lock:
            return json_safe({**self._device_row(self._row(device_id)), "device_time_s": self.device_time_s})

    def device_status(self, device_id: str) -> dict[str, Any]:
        """A device's live status: online, battery, health, link and alerts."""
        with self._lock:
            row = self._row(device_id)
            d = self._device_row(row)
            keys = ("device_id", "device_type", "sensor", "online", "battery", "health", "signal_strength")
            keys += ("buffered", "buffer_utilisation", "cluster_id", "last_value", "last_reading_s")
            return json_safe(
                {
                    **{k: d[k] for k in keys},
                    "active_alerts": len(d["active_alerts"]),
                    "critical": any(a["severity"] == "critical" for a in d["active_alerts"]),
                    "epoch": self._epoch,
                    "t_s": self._t_s,
                    "device_time_s": self.device_time_s,
                }
            )

    def device_models(self, device_id: str) -> dict[str, Any]:
        """Per model performance on one device (see :class:`~edgeswarm.ml.model_tracking.ModelTracker`)."""
        with self._lock:
            self._row(device_id)
            return json_safe({"device_id": device_id, "models": self._tracker.report(device_id)})

    def device_metrics(self, device_id: str) -> dict[str, Any]:
        """The device's uplink counters (see :meth:`DeviceLink.metrics`)."""
        with self._lock:
            return json_safe({"device_id": device_id, **self._link.metrics(self._row(device_id))})

    def publish(self, device_id: str, message: Any) -> dict[str, Any]:
        """Sends ``message`` from the device through its link at the current simulated time."""
        with self._lock:
            self._summary_cache = None  # state changes: the next summary() recomputes
            row = self._row(device_id)
            r = self._table.iloc[row]
            outcome = self._link.send(
                np.array([row]),
                np.array([float(r["signal_strength"])]),
                np.array([bool(r["online"])]),
                self._t_s,
                payloads=[message],
            )[0]
            return json_safe({"device_id": device_id, **outcome})

    def _check_device(self, id: Any, device_type: Any, sensor: Any, x: Any, y: Any) -> None:
        if not isinstance(id, str) or not _DEVICE_ID.match(id):
            raise ValueError(f"device_id: {id!r} is not allowed; use 1-64 letters, digits, '_', '.', '-'")
        if device_type not in DEVICE_TYPES:
            raise ValueError(f"device_type: {device_type!r} is not one of {', '.join(DEVICE_TYPES)}")
        if sensor not in SENSOR_TYPES:
            raise ValueError(f"sensor: {sensor!r} is not one of {', '.join(SENSOR_TYPES)}")
        area = self.options.area_m
        for axis, v in (("x", x), ("y", y)):
            ok = (
                isinstance(v, (int, float))
                and not isinstance(v, bool)
                and math.isfinite(v)
                and 0 <= v <= area
            )
            if not ok:
                raise ValueError(f"{axis}: {v!r} is out of range; allowed 0 <= {axis} <= {area}")

    def add_device(
        self,
        *,
        device_id: str,
        device_type: str,
        sensor: str,
        x: float,
        y: float,
        name: str | None = None,
        added_by: str = "admin",
    ) -> dict[str, Any]:
        """Adds a device, persists it in the store and returns its state; DeviceConflict when
        the id is taken, ValueError naming the field for bad values."""
        with self._lock:
            self._summary_cache = None  # state changes: the next summary() recomputes
            self._check_device(device_id, device_type, sensor, x, y)
            if device_id in self._row_of:
                raise DeviceConflict(f"device_id: {device_id!r} already exists")
            refusal = self._link.new_device_refusal() if self._carried else None
            if refusal is not None:
                raise DeviceConflict(f"device_id: {device_id!r} cannot be added now: {refusal}")
            spec = {
                "id": device_id,
                "device_type": device_type,
                "sensor": sensor,
                "x": float(x),
                "y": float(y),
                "name": name,
                "seq": len(self._admin) + 1,
                "added_by": added_by,
                "added_at": _utc_now(),
            }
            self._attach(spec)
            n = self.n_devices
            self._last_values = np.append(self._last_values, np.nan)
            self._last_labels = np.append(self._last_labels, np.uint8(0))
            self._last_reading_s = np.append(self._last_reading_s, np.nan)
            self._build_coordinator()
            self._table = self._device_table(self.device_time_s)
            self._store.upsert_device(spec)
            assert len(self._table) == n
            return self.device(device_id)

    # ------------------------------------------------------------------ clusters and summaries

    def _cluster_rows(self) -> dict[int, np.ndarray]:
        return {c: np.flatnonzero(self._labels == c) for c in sorted(self._coordinator.cluster_ids)}

    def clusters(self) -> list[dict[str, Any]]:
        """Every cluster: size, centroid, head (the device nearest the centroid), Raft leader
        (None during an election), Raft members, term, online devices, open emergencies."""
        with self._lock:
            status = self._coordinator.status()
            online = self._table["online"].to_numpy(bool)
            out = []
            for c, rows in self._cluster_rows().items():
                s = status[c]
                out.append(
                    {
                        "cluster_id": c,
                        "size": int(rows.size),
                        "online": int(online[rows].sum()),
                        "centroid": s["centroid"],
                        "head": s["head"],
                        "leader": s["leader"],
                        "members": s["members"],
                        "term": s["term"],
                        "open_emergencies": sum(
                            1
                            for e in self._emergencies.values()
                            if e.get("cluster_id") == c and self._is_open(e)
                        ),
                    }
                )
            return json_safe(out)

    def cluster(self, cluster_id: int) -> dict[str, Any]:
        """One cluster with its Raft status and its devices (UnknownItem for an unknown id)."""
        with self._lock:
            if cluster_id not in self._coordinator.cluster_ids:
                raise UnknownItem(f"cluster_id: {cluster_id!r} is not a known cluster")
            summary = next(c for c in self.clusters() if c["cluster_id"] == cluster_id)
            s = self._coordinator.status()[cluster_id]
            rows = self._cluster_rows()[cluster_id]
            return json_safe(
                {
                    **summary,
                    "raft": {
                        k: s[k]
                        for k in ("commit_index", "roles", "up", "down", "committed", "pending", "now_ms")
                    },
                    "devices": [self._device_row(int(r)) for r in rows],
                    "emergencies": [
                        e for e in self.emergencies(limit=1000) if e.get("cluster_id") == cluster_id
                    ],
                }
            )

    def _summary(self) -> dict[str, Any]:
        t = self._table
        online = t["online"].to_numpy(bool)
        battery = t["battery"].to_numpy(np.float64)
        util = t["buffer_utilisation"].to_numpy(np.float64)
        health = t["health"].to_numpy(np.float64)
        leaders = self._coordinator.leaders()
        records = list(self._emergencies.values())
        by_status = {s: sum(1 for e in records if e.get("status") == s) for s in EMERGENCY_STATUSES}
        severities = [a["severity"] for a in self._active.values()]
        return {
            "loaded": True,
            "epoch": self._epoch,
            "t_s": self._t_s,
            "device_time_s": self.device_time_s,
            "devices": {
                "total": self.n_devices,
                "online": int(online.sum()),
                "offline": int((~online).sum()),
                "admin_added": len(self._admin),
            },
            "battery": {
                "mean": float(np.nanmean(battery)),
                "min": float(np.nanmin(battery)),
                "low": int((battery < self._rules.battery_low).sum()),
            },
            "buffer": {
                "mean_utilisation": float(util.mean()),
                "max_utilisation": float(util.max()),
                "buffered": int(t["buffered"].sum()),
                "dropped": int(t["dropped"].sum()),
            },
            "health": {"mean": float(health.mean()), "failed": int((health <= 0).sum())},
            "readings": dict(self._readings),
            "alerts": {
                "active": len(self._active),
                "active_warning": severities.count("warning"),
                "active_critical": severities.count("critical"),
                "raised": self._alerts_raised,
                "suppressed": self._alerts_suppressed,
            },
            "clusters": {"count": len(leaders), "with_leader": sum(d is not None for d in leaders.values())},
            "emergencies": {
                "total": len(records),
                "open": sum(self._is_open(e) for e in records),
                "resolved": sum(bool(e.get("resolved")) for e in records),
                **by_status,
            },
            "ml": self._tracker.summary(),
            "link": self._link.totals(),
        }

    def summary(self) -> dict[str, Any]:
        """The edge summary (the ``edge`` message and ``/api/status``'s ``edge`` field)."""
        with self._lock:
            # /api/status reads this on every request; recompute only after a state change.
            if self._summary_cache is None:
                self._summary_cache = json_safe(self._summary())
            return dict(self._summary_cache)

    def analytics(self) -> dict[str, Any]:
        """The summary plus breakdowns: devices by type and sensor, battery histogram, active
        alerts by type, the latest alerts."""
        with self._lock:
            t = self._table
            battery = t["battery"].to_numpy(np.float64)
            hist, edges = np.histogram(battery[np.isfinite(battery)], bins=10, range=(0.0, 100.0))
            by_type: dict[str, int] = {}
            for a in self._active.values():
                by_type[a["alert_type"]] = by_type.get(a["alert_type"], 0) + 1
            return json_safe(
                {
                    **self._summary(),
                    "devices_by_type": {
                        k: int(v) for k, v in t["type"].astype(str).value_counts().sort_index().items()
                    },
                    "devices_by_sensor": {
                        k: int(v) for k, v in t["sensor"].astype(str).value_counts().sort_index().items()
                    },
                    "battery_histogram": {"edges": edges.tolist(), "counts": hist.tolist()},
                    "active_alerts_by_type": dict(sorted(by_type.items())),
                    "recent_alerts": [self._public_alert(a) for a in list(self._recent_alerts)[-20:][::-1]],
                    "alert_rules": {
                        name: getattr(self._rules, name) for name in self._rules.__dataclass_fields__
                    },
                    "models": list(self._detectors),
                    "store_skipped": dict(self._store_skipped),
                }
            )
