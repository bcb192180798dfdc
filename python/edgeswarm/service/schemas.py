"""Pydantic models of the edge endpoints (``/api/edge/*``, ``/api/devices/*``).

Request models carry the rules (``Field`` constraints, ``Literal`` choices), so a bad request
is a 422 whose ``loc`` names the field. Response models document the answers in OpenAPI.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edgeswarm.fleet import DEVICE_TYPES, SENSOR_TYPES
from edgeswarm.fleet.emergency import EMERGENCY_STATUSES, SEVERITIES

#: Device ids: 1-64 letters, digits, '_', '.', '-', starting with a letter or digit.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
#: Largest published message, as compact JSON.
MAX_MESSAGE_BYTES = 4096

DeviceType = Literal[DEVICE_TYPES]  # type: ignore[valid-type]
SensorType = Literal[SENSOR_TYPES]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
#: The one emergency status vocabulary (edgeswarm.fleet.emergency.EMERGENCY_STATUSES).
EmergencyStatus = Literal[EMERGENCY_STATUSES]  # type: ignore[valid-type]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # a string is never a number or a bool


class DeviceCreate(_Request):
    """A device an admin adds to the fleet; it is persisted and survives restarts."""

    device_id: str = Field(pattern=DEVICE_ID_PATTERN, description="unique id, e.g. 'pump-7'")
    device_type: DeviceType = "sensor"
    sensor: SensorType
    x: float = Field(ge=0, le=1e6, allow_inf_nan=False, description="metres; within the fleet's area")
    y: float = Field(ge=0, le=1e6, allow_inf_nan=False, description="metres; within the fleet's area")
    name: str | None = Field(None, max_length=100)


class EmergencyRequest(_Request):
    """An emergency an operator raises; it is proposed to a cluster's Raft log."""

    type: str = Field(min_length=1, max_length=64, pattern=r"\S", description="e.g. 'fire', 'flood'")
    severity: Severity = "high"
    affected_devices: list[str] = Field(min_length=1, max_length=1000)
    action: str = Field("", max_length=500)
    zone: str | None = Field(None, max_length=100, description="default 'cluster-<id>'")
    cluster_id: int | None = Field(
        None, ge=0, description="cluster whose Raft group records it; default: most affected devices"
    )


class PublishRequest(_Request):
    """A message a device publishes through its simulated uplink."""

    message: str | dict[str, Any] = Field(
        description=f"text or a JSON object, at most {MAX_MESSAGE_BYTES} bytes"
    )

    @field_validator("message")
    @classmethod
    def _small(cls, value: str | dict[str, Any]) -> str | dict[str, Any]:
        size = (
            len(value.encode()) if isinstance(value, str) else len(json.dumps(value, separators=(",", ":")))
        )
        if size > MAX_MESSAGE_BYTES:
            raise ValueError(f"message: {size} bytes; allowed at most {MAX_MESSAGE_BYTES}")
        return value


class Alert(BaseModel):
    device_id: str
    alert_type: str
    metric: str
    severity: Literal["warning", "critical"]
    value: float | None
    limit: float
    device_time_s: float
    t_s: float
    epoch: int
    cluster_id: int


class DeviceRow(BaseModel):
    """A device as listed in a page of devices."""

    device_id: str
    name: str | None
    source: Literal["fleet", "admin"]
    device_type: str
    sensor: str
    unit: str
    x: float
    y: float
    cluster_id: int
    online: bool
    battery: float | None = Field(description="percent")
    health: float | None = Field(description="1 new, 0 failed")
    signal_strength: float | None = Field(description="dBm")
    buffered: int
    buffer_utilisation: float | None
    buffer_dropped: int
    failure_s: float | None = Field(description="device time of failure; None when it does not wear out")
    last_value: float | None
    last_label: str
    last_reading_s: float | None
    active_alerts: list[Alert]


class Device(DeviceRow):
    """One device, with the device clock it was read at."""

    device_time_s: float


class DevicePage(BaseModel):
    total: int
    offset: int
    limit: int
    device_time_s: float
    devices: list[DeviceRow]


class DeviceStatus(BaseModel):
    device_id: str
    device_type: str
    sensor: str
    online: bool
    battery: float | None
    health: float | None
    signal_strength: float | None
    buffered: int
    buffer_utilisation: float | None
    cluster_id: int
    last_value: float | None
    last_reading_s: float | None
    active_alerts: int
    critical: bool
    epoch: int
    t_s: float
    device_time_s: float


class DeviceMetrics(BaseModel):
    device_id: str
    sent: int
    received: int
    dropped: int = Field(description="dropped_loss + dropped_offline")
    dropped_loss: int
    dropped_offline: int
    in_flight: int = Field(description="sent - received - dropped")
    avg_latency: float | None = Field(description="milliseconds; None before the first delivery")
    latency_samples: list[float] = Field(description="latest latencies in milliseconds, oldest first")
    inbox: list[dict[str, Any]] = Field(description="latest published messages delivered")


class PublishResult(BaseModel):
    device_id: str
    message_id: int | None
    status: Literal["in_flight", "dropped_loss", "dropped_offline"]
    sent_t_s: float
    latency_ms: float | None
    due_t_s: float | None


class ModelPerformance(BaseModel):
    """One model on one device; the keys and definitions of edgeswarm.ml.model_tracking."""

    device_id: str
    model: str
    calls: int
    samples: int
    inferences: int = Field(description="samples scored (finite readings)")
    invalid: int = Field(description="samples skipped (NaN readings)")
    anomalies: int = Field(description="scored samples with score > threshold (0.5)")
    anomaly_rate: float | None
    total_ns: int
    mean_ns_per_sample: float | None = Field(
        description="perf_counter_ns around each batched call, per sample"
    )
    last_score: float | None
    last_confidence: float | None
    labelled: int = Field(description="scored samples with a label (the fleet's injected faults)")
    tp: int
    fp: int
    tn: int
    fn: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None


class DeviceModels(BaseModel):
    device_id: str
    models: list[ModelPerformance]


class EmergencyRecord(BaseModel):
    id: str
    type: str
    severity: str
    zone: str
    affected_devices: list[str | int]
    action: str
    time: float = Field(description="device time in seconds when raised")
    cluster_id: int
    source: str = Field(description="'alert' (critical alert rules) or 'operator'")
    reported_by: str
    status: EmergencyStatus
    resolved: bool
    raised_epoch: int
    raised_t_s: float
    committed_t_s: float | None = None
    raft_index: int | None = None
    resolved_t_s: float | None = None
    resolution: str | None = None


class EmergencyList(BaseModel):
    total: int
    open: int
    emergencies: list[EmergencyRecord]


class ClusterSummary(BaseModel):
    cluster_id: int
    size: int
    online: int
    centroid: list[float] = Field(description="mean position of the cluster's devices")
    head: str | int = Field(description="the cluster's device nearest its centroid")
    leader: str | int | None = Field(
        description="leader of the cluster's Raft group; None during an election"
    )
    members: list[str | int] = Field(description="Raft voters, nearest the centroid first (the head first)")
    term: int
    open_emergencies: int


class ClusterList(BaseModel):
    clusters: list[ClusterSummary]


class ClusterDetail(ClusterSummary):
    raft: dict[str, Any]
    devices: list[DeviceRow]
    emergencies: list[EmergencyRecord]
