"""Device fleets: sensor signals with faults and wear, alert rules, clustering by location.

A :class:`Fleet` is a set of devices (types :data:`DEVICE_TYPES`, sensors :data:`SENSOR_TYPES`)
whose parameters and readings are pure functions of ``(seed, device id, time)``: a daily
cycle, calibration drift, white noise, injected faults (spike, stuck-at, drift, dropout; each
reading labelled), wear that ends in failure, battery drain, signal strength and an offline
message buffer. Readings are generated in one batched C++ call::

    >>> import edgeswarm as es
    >>> fleet = es.fleet.Fleet(10_000, seed=1)
    >>> r = fleet.readings(steps=1440, dt_s=60)         # one day, one reading a minute
    >>> r.values.shape, r.labels.shape                  # (10000, 1440) float64 and uint8
    >>> fleet.devices(t_s=3600)                         # one row per device
    >>> alerts = es.fleet.AlertRules().evaluate_fleet(fleet, r)
    >>> es.fleet.AlertRules.emergencies(alerts)         # dicts with Emergency's fields
    >>> es.fleet.cluster(fleet.positions(), k=20, seed=1).heads

Times are seconds in this facade and integer microseconds in the engine; ``dt_s`` and
``t0_s`` are rounded to the microsecond.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from edgeswarm import _core
from edgeswarm._validate import require_choice, require_float, require_int

__all__ = [
    "ALERT_METRICS",
    "ALERT_TYPES",
    "DEVICE_TYPES",
    "FAULT_LABELS",
    "SENSOR_TYPES",
    "SENSOR_UNITS",
    "AlertRules",
    "Clusters",
    "Fleet",
    "Readings",
    "cluster",
    "rank_by_centroid",
]

#: Device types, in code order.
DEVICE_TYPES: tuple[str, ...] = tuple(_core.DEVICE_TYPES)
#: Sensor types, in code order.
SENSOR_TYPES: tuple[str, ...] = tuple(_core.SENSOR_TYPES)
#: Unit of each sensor type's readings (same order as SENSOR_TYPES).
SENSOR_UNITS: dict[str, str] = dict(zip(_core.SENSOR_TYPES, _core.SENSOR_UNITS, strict=True))
#: Labels of readings, in code order ("none" = healthy reading).
FAULT_LABELS: tuple[str, ...] = tuple(_core.FAULT_LABELS)
#: Metrics alert rules watch, in code order.
ALERT_METRICS: tuple[str, ...] = tuple(_core.ALERT_METRICS)
#: Alert types, in code order ("none" = no alert).
ALERT_TYPES: tuple[str, ...] = tuple(_core.ALERT_TYPES)

_SECOND_US = 1_000_000
_NEVER_US = np.iinfo(np.int64).max
_ACTIONS = {
    "temperature_low": "check heating and insulation in the zone",
    "temperature_high": "inspect cooling; shut down overheating equipment",
    "humidity_low": "check humidifiers and ventilation",
    "humidity_high": "check for leaks and condensation; run dehumidifiers",
    "battery_low": "replace or recharge batteries of the affected devices",
    "vibration_high": "stop the affected machines and inspect bearings",
}


def _seconds_to_us(name: str, value: object, *, positive: bool) -> int:
    seconds = require_float(name, value, minimum=0.0)
    us = round(seconds * _SECOND_US)
    if positive and us <= 0:
        raise ValueError(f"{name}: {seconds} is out of range; allowed >= 1e-6 (one microsecond)")
    return us


def _mix(name: str, value: object, names: tuple[str, ...]) -> list[float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: expected a mapping of {', '.join(names)} to weights, got {value!r}")
    weights = [0.0] * len(names)
    for key, weight in value.items():
        require_choice(name, key, names)
        weights[names.index(key)] = require_float(name, weight, minimum=0.0)
    if sum(weights) <= 0.0:
        raise ValueError(f"{name}: {dict(value)!r} has no positive weight")
    return weights


@dataclass(frozen=True)
class Readings:
    """A batch of readings: ``values[i, k]`` of device ``i`` at ``times_s[k]``, labelled."""

    values: np.ndarray  #: float64 (n_devices, steps); NaN for dropout, failure, empty battery
    labels: np.ndarray  #: uint8 (n_devices, steps); codes index FAULT_LABELS
    times_s: np.ndarray  #: float64 (steps,)

    def frame(self) -> pd.DataFrame:
        """Long DataFrame: device, time_s, value, fault (categorical)."""
        n, steps = self.values.shape
        return pd.DataFrame(
            {
                "device": np.repeat(np.arange(n, dtype=np.int64), steps),
                "time_s": np.tile(self.times_s, n),
                "value": self.values.ravel(),
                "fault": pd.Categorical.from_codes(self.labels.ravel().astype(np.int64), FAULT_LABELS),
            }
        )


class Fleet:
    """A fleet of ``n_devices`` devices drawn from ``seed``.

    ``device_mix`` maps device types to relative weights (default mostly sensors);
    ``sensor`` is one sensor type for every device, or a mapping of sensor types to weights
    (default all ten equally). Other options: ``area_m`` (devices in [0, area_m)^2),
    ``fault_rate_per_day`` (expected injected faults per device per day),
    ``wear_fraction`` (share of devices that wear out and fail within
    ``wear_horizon_days``), ``outage_rate_per_day`` (link outages), ``report_interval_s``
    (one message per interval), ``buffer_capacity`` (offline buffer, oldest dropped
    beyond), ``flush_rate_per_s`` (buffered messages sent per second once back online),
    ``offline_dbm`` (devices with a weaker link never get through).
    """

    def __init__(
        self,
        n_devices: int = 1000,
        *,
        seed: int = 1,
        device_mix: Mapping[str, float] | None = None,
        sensor: str | Mapping[str, float] | None = None,
        area_m: float = 1000.0,
        fault_rate_per_day: float = 0.5,
        wear_fraction: float = 0.05,
        wear_horizon_days: float = 30.0,
        outage_rate_per_day: float = 1.0,
        report_interval_s: float = 10.0,
        buffer_capacity: int = 1000,
        flush_rate_per_s: float = 20.0,
        offline_dbm: float = -95.0,
    ) -> None:
        n = require_int("n_devices", n_devices, minimum=1, maximum=100_000_000)
        self.seed = require_int("seed", seed, minimum=0, maximum=2**64 - 1)
        options: dict[str, Any] = {
            "area_m": require_float("area_m", area_m),
            "fault_rate_per_day": require_float("fault_rate_per_day", fault_rate_per_day),
            "wear_fraction": require_float("wear_fraction", wear_fraction),
            "wear_horizon_days": require_float("wear_horizon_days", wear_horizon_days),
            "outage_rate_per_day": require_float("outage_rate_per_day", outage_rate_per_day),
            "report_interval_s": require_float("report_interval_s", report_interval_s),
            "buffer_capacity": require_int("buffer_capacity", buffer_capacity, minimum=1, maximum=2**32 - 1),
            "flush_rate_per_s": require_float("flush_rate_per_s", flush_rate_per_s),
            "offline_dbm": require_float("offline_dbm", offline_dbm),
        }
        if device_mix is not None:
            options["device_mix"] = _mix("device_mix", device_mix, DEVICE_TYPES)
        if isinstance(sensor, str):
            options["sensor"] = require_choice("sensor", sensor, SENSOR_TYPES)
        elif sensor is not None:
            options["sensor_mix"] = _mix("sensor", sensor, SENSOR_TYPES)
        self._engine = _core.FleetEngine(n, seed=self.seed, **options)
        self.options = options

    def __len__(self) -> int:
        return len(self._engine)

    def __repr__(self) -> str:
        return f"Fleet(n_devices={len(self)}, seed={self.seed})"

    @property
    def n_devices(self) -> int:
        """Number of devices."""
        return len(self._engine)

    def readings(self, steps: int = 60, *, dt_s: float = 60.0, t0_s: float = 0.0) -> Readings:
        """Readings of every device at ``t0_s + k * dt_s`` for ``k < steps`` (one C++ call)."""
        steps = require_int("steps", steps, minimum=1)
        dt_us = _seconds_to_us("dt_s", dt_s, positive=True)
        t0_us = _seconds_to_us("t0_s", t0_s, positive=False)
        if self.n_devices * steps > 2**31:
            raise ValueError(f"steps: {steps} gives more than 2^31 readings for {self.n_devices} devices")
        values, labels = self._engine.generate(t0_us, steps, dt_us)
        times = (t0_us + dt_us * np.arange(steps, dtype=np.int64)) / _SECOND_US
        return Readings(values=values, labels=labels, times_s=times)

    def devices(self, *, t_s: float = 0.0) -> pd.DataFrame:
        """One row per device at time ``t_s``: id, type, sensor, unit, x, y, battery (%),
        health (1 new, 0 failed), signal_strength (dBm), online, buffered,
        buffer_utilisation (0-1), dropped, noise_sd, wear_onset_s and failure_s (NaN when
        the device does not wear)."""
        cols = self._engine.devices(_seconds_to_us("t_s", t_s, positive=False))
        sensors = pd.Categorical.from_codes(cols["sensor"].astype(np.int64), SENSOR_TYPES)
        frame = pd.DataFrame(
            {
                "id": cols["id"],
                "type": pd.Categorical.from_codes(cols["type"].astype(np.int64), DEVICE_TYPES),
                "sensor": sensors,
                "unit": [SENSOR_UNITS[s] for s in sensors],
                "x": cols["x"],
                "y": cols["y"],
                "battery": cols["battery"],
                "health": cols["health"],
                "signal_strength": cols["signal_strength"],
                "online": cols["online"],
                "buffered": cols["buffered"],
                "buffer_utilisation": cols["buffer_utilisation"],
                "dropped": cols["dropped"],
                "noise_sd": cols["noise_sd"],
            }
        )
        for name in ("wear_onset", "failure"):
            us = cols[f"{name}_us"]
            frame[f"{name}_s"] = np.where(us == _NEVER_US, np.nan, us / _SECOND_US)
        return frame.set_index("id")

    def positions(self) -> np.ndarray:
        """Device positions in metres, float64 (n_devices, 2)."""
        cols = self._engine.devices(0)
        return np.column_stack([cols["x"], cols["y"]])

    def sensor_codes(self) -> np.ndarray:
        """Sensor type code of each device (uint8, indexes SENSOR_TYPES)."""
        return self._engine.devices(0)["sensor"]


@dataclass(frozen=True)
class AlertRules:
    """Threshold alert rules. A value beyond a limit raises an alert; it is a ``warning`` up
    to ``warning_band * (high - low)`` beyond the limit (inclusive) and ``critical`` further
    out. Values equal to a limit, and NaN, raise nothing. ``battery_high`` and
    ``vibration_low`` only set the band widths (there is no battery_high or vibration_low
    alert). Defaults: temperature 15-35 degC, humidity 20-80 %, battery 10-100 %, vibration
    0-5 g, warning band 10 %."""

    temperature_low: float = 15.0
    temperature_high: float = 35.0
    humidity_low: float = 20.0
    humidity_high: float = 80.0
    battery_low: float = 10.0
    battery_high: float = 100.0
    vibration_low: float = 0.0
    vibration_high: float = 5.0
    warning_band: float = 0.1

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, require_float(name, getattr(self, name)))
        _core.evaluate_alerts(np.zeros((0, 0)), np.zeros(0, dtype=np.uint8), **self._limits())

    def _limits(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def codes(self, values: Any, *, metric: str | Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(alert type codes, severity codes), uint8 of the shape of ``values`` ((n,) or
        (n, steps)); ``metric`` names the metric of every row, or one per row."""
        array = np.asarray(values, dtype=np.float64)
        if array.ndim not in (1, 2):
            raise ValueError(f"values: expected a 1-D or 2-D array, got {array.ndim}-D")
        grid = array.reshape(array.shape[0], -1) if array.ndim == 2 else array.reshape(-1, 1)
        if isinstance(metric, str):
            codes = np.full(
                grid.shape[0], ALERT_METRICS.index(require_choice("metric", metric, ALERT_METRICS))
            )
        else:
            names = list(metric)
            if len(names) != grid.shape[0]:
                raise ValueError(f"metric: {len(names)} names given; allowed one per row ({grid.shape[0]})")
            codes = np.array([ALERT_METRICS.index(require_choice("metric", m, ALERT_METRICS)) for m in names])
        types, severities = _core.evaluate_alerts(grid, codes.astype(np.uint8), **self._limits())
        return types.reshape(array.shape), severities.reshape(array.shape)

    def evaluate(
        self,
        values: Any,
        *,
        metric: str | Sequence[str],
        devices: Sequence[int] | np.ndarray | None = None,
        times_s: Sequence[float] | np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Alerts as a DataFrame (device, time_s, metric, type, severity, value, limit), one
        row per alerting value, ordered by device then time. ``values`` is (n,) or (n,
        steps); ``devices`` labels the rows (default 0..n-1), ``times_s`` the columns
        (default the step index)."""
        array = np.asarray(values, dtype=np.float64)
        types, severities = self.codes(array, metric=metric)
        grid = array.reshape(array.shape[0], -1) if array.ndim == 2 else array.reshape(-1, 1)
        types = types.reshape(grid.shape)
        severities = severities.reshape(grid.shape)
        ids = np.arange(grid.shape[0]) if devices is None else np.asarray(devices)
        if ids.shape != (grid.shape[0],):
            raise ValueError(f"devices: expected {grid.shape[0]} ids, got shape {ids.shape}")
        times = np.arange(grid.shape[1], dtype=np.float64) if times_s is None else np.asarray(times_s, float)
        if times.shape != (grid.shape[1],):
            raise ValueError(f"times_s: expected {grid.shape[1]} times, got shape {times.shape}")
        row, col = np.nonzero(types)
        metrics = [metric] * grid.shape[0] if isinstance(metric, str) else list(metric)
        kinds = [ALERT_TYPES[t] for t in types[row, col]]
        return pd.DataFrame(
            {
                "device": ids[row],
                "time_s": times[col],
                "metric": [metrics[r] for r in row],
                "type": kinds,
                "severity": [_core.ALERT_SEVERITIES[s] for s in severities[row, col]],
                "value": grid[row, col],
                "limit": [getattr(self, kind) for kind in kinds],
            }
        )

    def evaluate_fleet(self, fleet: Fleet, readings: Readings) -> pd.DataFrame:
        """Alerts of a fleet's readings: temperature, humidity and vibration devices on their
        readings; every device on its battery at the last reading's time (batteries only
        drain between recharges, so the last time is the lowest within a window)."""
        sensors = fleet.sensor_codes()
        parts = []
        for metric in ("temperature", "humidity", "vibration"):
            rows = np.flatnonzero(sensors == SENSOR_TYPES.index(metric))
            if rows.size:
                parts.append(
                    self.evaluate(
                        readings.values[rows], metric=metric, devices=rows, times_s=readings.times_s
                    )
                )
        last = readings.times_s[-1]
        battery = fleet.devices(t_s=last)["battery"].to_numpy()
        parts.append(self.evaluate(battery[:, None], metric="battery", times_s=[last]))
        alerts = pd.concat(parts, ignore_index=True)
        return alerts.sort_values(["device", "time_s", "type"], kind="stable").reset_index(drop=True)

    @staticmethod
    def emergencies(alerts: pd.DataFrame, *, zone: str = "") -> list[dict[str, Any]]:
        """Emergency records (dicts with the fields of :class:`edgeswarm.emergency.Emergency`)
        for the critical alerts in ``alerts``: one per alert type, listing the devices with a
        critical alert of that type, at the time of the first; nothing is sent anywhere."""
        critical = alerts[alerts["severity"] == "critical"]
        out = []
        for kind in ALERT_TYPES[1:]:
            rows = critical[critical["type"] == kind]
            if rows.empty:
                continue
            first = float(rows["time_s"].min())
            devices = sorted({int(d) for d in rows["device"]})
            out.append(
                {
                    "id": f"{kind}@{first:g}s",
                    "type": kind,
                    "severity": "critical",
                    "zone": zone,
                    "affected_devices": devices,
                    "action": _ACTIONS[kind],
                    "time": first,
                }
            )
        return out


@dataclass(frozen=True)
class Clusters:
    """Devices grouped by location; ``heads[j]`` is the *head* of cluster ``j``: its member
    nearest its centroid (ties to the lower device id). :func:`rank_by_centroid` ranks every
    member by the same rule, so its first member of cluster ``j`` is ``heads[j]``."""

    labels: np.ndarray  #: int32 (n,), cluster of each device
    centroids: np.ndarray  #: float64 (k, d)
    heads: np.ndarray  #: int64 (k,)
    sizes: np.ndarray  #: int64 (k,)
    iterations: int
    converged: bool
    inertia: float

    @property
    def k(self) -> int:
        """Number of (non-empty) clusters."""
        return len(self.heads)


def cluster(
    positions: Any,
    *,
    k: int | None = None,
    cell_size: float | None = None,
    seed: int = 1,
    max_iter: int = 100,
) -> Clusters:
    """Clusters devices by position, (n, d): seeded k-means (k-means++ then Lloyd; at most
    ``k`` clusters, fewer when there are fewer distinct points) or, with ``cell_size``, a
    square grid anchored at the origin. Give exactly one of ``k`` and ``cell_size``."""
    points = np.asarray(positions)
    if points.dtype.kind not in "fiu":
        raise ValueError(f"positions: expected a numeric (n, d) array, got dtype {points.dtype}")
    points = np.ascontiguousarray(points, dtype=np.float64)
    if (k is None) == (cell_size is None):
        raise ValueError("k: give exactly one of k (k-means) or cell_size (grid)")
    if k is not None:
        k = require_int("k", k, minimum=1)
        result = _core.kmeans(
            points,
            k,
            seed=require_int("seed", seed, minimum=0, maximum=2**64 - 1),
            max_iter=require_int("max_iter", max_iter, minimum=1, maximum=2**31 - 1),
        )
    else:
        side = require_float("cell_size", cell_size)
        if not (side > 0 and math.isfinite(side)):
            raise ValueError(f"cell_size: {side} is out of range; allowed > 0")
        result = _core.grid_clusters(points, cell_size=side)
    return Clusters(**result)


def rank_by_centroid(
    positions: Any, labels: Any, *, heads: Any = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Centroids and members ranked nearest first: ``(centroids (k, d), [indices of cluster j's
    members, nearest to centroids[j] first])`` for an (n, d) array of positions and labels 0..k-1.

    The rule of the engine's cluster heads (:attr:`Clusters.heads`), computed the same way: a
    centroid is its members' mean, summed in device order; nearness is the squared Euclidean
    distance, summed over coordinates in order; ties go to the lower device index. So
    ``rank_by_centroid(p, c.labels)[1][j][0] == c.heads[j]`` for ``c = cluster(p, ...)`` with
    positions of up to 3 coordinates. With more, the engine sums a distance in SIMD lanes, and
    two members at the same distance in exact arithmetic may then tie differently in the last
    bit; ``heads`` (the engine's, ``c.heads``) puts each cluster's head first whatever the
    dimension. The emergency coordinator's Raft voters of a cluster are its first ranked members.
    """
    points = np.asarray(positions)
    if points.dtype.kind not in "fiu" or points.ndim != 2 or points.shape[0] == 0 or points.shape[1] == 0:
        raise ValueError(
            f"positions: expected a non-empty numeric (n, d) array, got shape {points.shape} dtype {points.dtype}"
        )
    points = np.ascontiguousarray(points, dtype=np.float64)
    if not np.isfinite(points).all():
        raise ValueError("positions: contains NaN or infinite values; allowed finite coordinates")
    codes = np.asarray(labels)
    if codes.shape != (len(points),) or codes.dtype.kind not in "iu":
        raise ValueError(
            f"labels: expected {len(points)} integer cluster labels, got shape {codes.shape} dtype {codes.dtype}"
        )
    codes = codes.astype(np.int64)
    k = int(codes.max()) + 1
    counts = np.bincount(codes, minlength=k) if codes.min() >= 0 else np.zeros(0)
    if codes.min() < 0 or (counts == 0).any():
        raise ValueError(
            f"labels: expected labels 0..k-1 with no empty cluster, got {sorted(set(codes.tolist()))}"
        )
    # np.bincount adds the weights in input order: the engine's sums, to the last bit.
    centroids = (
        np.column_stack(
            [np.bincount(codes, weights=points[:, j], minlength=k) for j in range(points.shape[1])]
        )
        / counts[:, None]
    )
    d2 = np.zeros(len(points))
    for j in range(points.shape[1]):
        d2 += (points[:, j] - centroids[codes, j]) ** 2
    order = np.lexsort((np.arange(len(points)), d2, codes))  # by cluster, nearness, index
    ranked = np.split(order, np.cumsum(counts)[:-1])
    if heads is None:
        return centroids, ranked
    chosen = np.asarray(heads)
    if (
        chosen.shape != (k,)
        or chosen.dtype.kind not in "iu"
        or not all(codes[h] == j if 0 <= h < len(points) else False for j, h in enumerate(chosen.tolist()))
    ):
        raise ValueError(f"heads: expected one member of each of the {k} clusters, got {chosen.tolist()!r}")
    return centroids, [np.concatenate([[h], r[r != h]]) for h, r in zip(chosen.tolist(), ranked, strict=True)]
