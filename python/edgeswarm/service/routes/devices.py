"""One device's live status, uplink metrics and publishing (/api/devices/{device_id}/*).

Reads are open; publishing needs an operator. Unknown ids answer 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from edgeswarm.service.routes.edge import DeviceId, Edge, Operator
from edgeswarm.service.schemas import DeviceMetrics, DeviceStatus, PublishRequest, PublishResult

router = APIRouter(prefix="/api/devices", tags=["devices"])


@router.get("/{device_id}/status", response_model=DeviceStatus, summary="A device's live status")
def device_status(device_id: DeviceId, edge: Edge) -> dict[str, Any]:
    return edge.device_status(device_id)


@router.post(
    "/{device_id}/publish",
    response_model=PublishResult,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Publish a message from the device through its seeded simulated uplink (operator)",
)
def publish(
    body: PublishRequest,
    device_id: DeviceId,
    edge: Edge,
    _user: Operator,  # operators only
) -> dict[str, Any]:
    return edge.publish(device_id, body.message)


@router.get(
    "/{device_id}/metrics",
    response_model=DeviceMetrics,
    summary="Uplink metrics: sent, received, dropped, in flight, avg_latency (ms), latency_samples",
)
def device_metrics(device_id: DeviceId, edge: Edge) -> dict[str, Any]:
    return edge.device_metrics(device_id)
