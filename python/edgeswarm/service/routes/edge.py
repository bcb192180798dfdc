"""The edge fleet: analytics, clusters, emergencies, devices and their ML models (/api/edge/*).

Reads are open; raising or resolving an emergency needs an operator, adding a device an admin.
Unknown ids answer 404 (UnknownItem), bad input 422 naming the field (ValueError), a taken
device id 409 (DeviceConflict): the app's exception handlers turn the runtime's errors into these.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.concurrency import run_in_threadpool

from edgeswarm.fleet.runtime import EdgeRuntime
from edgeswarm.service.auth import User
from edgeswarm.service.deps import get_edge, require_role
from edgeswarm.service.schemas import (
    ClusterDetail,
    ClusterList,
    Device,
    DeviceCreate,
    DeviceModels,
    DevicePage,
    DeviceType,
    EmergencyList,
    EmergencyRecord,
    EmergencyRequest,
    EmergencyStatus,
    SensorType,
)

router = APIRouter(prefix="/api/edge", tags=["edge"])

Edge = Annotated[EdgeRuntime, Depends(get_edge)]
Operator = Annotated[User, Depends(require_role("operator"))]
Admin = Annotated[User, Depends(require_role("admin"))]
DeviceId = Annotated[str, Path(max_length=64, description="device id, e.g. dev-0007")]


@router.get("/analytics", summary="Fleet analytics: devices, battery, buffers, alerts, emergencies, ML")
def analytics(edge: Edge) -> dict[str, Any]:
    return edge.analytics()


@router.get(
    "/clusters", response_model=ClusterList, summary="Clusters by location with their heads and Raft leaders"
)
def clusters(edge: Edge) -> dict[str, Any]:
    return {"clusters": edge.clusters()}


@router.get("/clusters/{cluster_id}", response_model=ClusterDetail, summary="One cluster and its devices")
def cluster_detail(cluster_id: Annotated[int, Path(ge=0, le=1_000_000)], edge: Edge) -> dict[str, Any]:
    return edge.cluster(cluster_id)


@router.get("/emergencies", response_model=EmergencyList, summary="Emergencies, newest first")
def emergencies(
    edge: Edge,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    status_: Annotated[EmergencyStatus | None, Query(alias="status")] = None,
    open_only: Annotated[bool, Query(alias="open", description="only unresolved ones")] = False,
) -> dict[str, Any]:
    return edge.emergency_list(limit=limit, status=status_, open_only=open_only)


@router.post(
    "/emergency-coordination",
    response_model=EmergencyRecord,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Raise an emergency (operator): proposed to the cluster's Raft log, recorded once committed",
)
async def emergency_coordination(
    body: EmergencyRequest,
    edge: Edge,
    user: Operator,
) -> dict[str, Any]:
    # In a worker thread: the runtime's lock may be held by a tick for a while.
    record = await run_in_threadpool(
        edge.raise_emergency,
        type=body.type,
        severity=body.severity,
        affected_devices=body.affected_devices,
        action=body.action,
        zone=body.zone,
        cluster_id=body.cluster_id,
        reported_by=user.username,
    )
    await edge.broadcast([{"type": "emergency", "data": record}])
    return record


@router.post(
    "/emergencies/{emergency_id}/resolve",
    response_model=EmergencyRecord,
    summary="Mark an emergency resolved (operator)",
)
async def resolve_emergency(
    emergency_id: Annotated[str, Path(max_length=64)],
    edge: Edge,
    user: Operator,
) -> dict[str, Any]:
    record = await run_in_threadpool(edge.resolve_emergency, emergency_id, reported_by=user.username)
    await edge.broadcast([{"type": "emergency", "data": record}])
    return record


@router.get("/devices", response_model=DevicePage, summary="Devices, generated then admin-added")
def devices(
    edge: Edge,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    device_type: DeviceType | None = None,
    sensor: SensorType | None = None,
    online: bool | None = None,
) -> dict[str, Any]:
    return edge.devices(limit=limit, offset=offset, device_type=device_type, sensor=sensor, online=online)


@router.post(
    "/devices",
    response_model=Device,
    status_code=status.HTTP_201_CREATED,
    summary="Add a device (admin); persisted, restored after a restart",
)
def add_device(
    body: DeviceCreate,
    edge: Edge,
    user: Admin,
) -> dict[str, Any]:
    return edge.add_device(
        device_id=body.device_id,
        device_type=body.device_type,
        sensor=body.sensor,
        x=body.x,
        y=body.y,
        name=body.name,
        added_by=user.username,
    )


@router.get("/devices/{device_id}", response_model=Device, summary="One device")
def device(device_id: DeviceId, edge: Edge) -> dict[str, Any]:
    return edge.device(device_id)


@router.get(
    "/devices/{device_id}/ml-models",
    response_model=DeviceModels,
    summary="Per model performance on one device: inferences, time per sample, accuracy vs injected faults",
)
def device_models(device_id: DeviceId, edge: Edge) -> dict[str, Any]:
    return edge.device_models(device_id)
