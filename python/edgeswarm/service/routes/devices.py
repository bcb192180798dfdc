"""One device's live status, uplink metrics and publishing (/api/devices/{device_id}/*).

Reads are open; publishing needs an operator. Unknown ids answer 404.

With ``serve --mqtt`` (not off) these act on the live MQTT device (:mod:`edgeswarm.service.mqtt_bridge`):
the status carries its MQTT status (online / failed / reconnecting ...; ``online`` is true only
while the simulated device is online *and* its MQTT client is), publishing sends the message to
the device's inbox topic through the broker, and the metrics are the device's own counters
beside the receiver's delivery figures. With --mqtt off they are those of the simulated link.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from edgeswarm.service.routes.broker import Mqtt
from edgeswarm.service.routes.edge import DeviceId, Edge, Operator
from edgeswarm.service.schemas import DeviceMetrics, DeviceStatus, PublishRequest, PublishResult

router = APIRouter(prefix="/api/devices", tags=["devices"])


class MqttDeviceState(BaseModel):
    status: str = Field(description="the MQTT client's: connecting, online, failed, reconnecting, stopped")
    broker_status: str = Field(description="the device's retained status topic as the receiver heard it")
    topic: str = Field(description="the device's topic prefix, edgeswarm/<fleet>/<row>")
    connects: int
    connection_losses: int
    buffered: int = Field(description="messages in the device's offline buffer")


class MqttDeviceStatus(DeviceStatus):
    transport: Literal["mqtt"]
    mqtt: MqttDeviceState


class MqttDeviceMetrics(BaseModel):
    device_id: str
    transport: Literal["mqtt"]
    mqtt_device: str = Field(description="the device's name in its MQTT topics (its row)")
    device: dict[str, Any] = Field(description="the device's own counters (MqttDevice.metrics)")
    delivery: dict[str, Any] | None = Field(
        description="what the service's receiver measured for it (Receiver.metrics); None before it heard it"
    )


class MqttPublishResult(BaseModel):
    device_id: str
    transport: Literal["mqtt"]
    topic: str = Field(description="the device's inbox topic")
    message_id: int = Field(description="the MQTT packet id")
    seq: int = Field(description="the inbox message's sequence number for this device")
    status: Literal["published", "not_connected"]
    sent_at: float = Field(description="Unix time")
    device_status: str = Field(description="the device's MQTT status when it was sent")


def _first_that_fits(*models: type[BaseModel]) -> Any:
    # The MQTT model first: it requires transport == "mqtt", which the simulated link's answer lacks.
    union: Any = models[0]
    for model in models[1:]:
        union = union | model
    return Annotated[union, Field(union_mode="left_to_right")]


@router.get(
    "/{device_id}/status",
    response_model=_first_that_fits(MqttDeviceStatus, DeviceStatus),
    summary="A device's live status (with its MQTT status under --mqtt)",
)
def device_status(device_id: DeviceId, edge: Edge, mqtt: Mqtt) -> dict[str, Any]:
    out = edge.device_status(device_id)
    if mqtt is not None:
        live = mqtt.device_status(edge.row_of(device_id))
        # Never "online" while its MQTT client is failed, reconnecting or stopped.
        out = {
            **out,
            "online": out["online"] and live["status"] == "online",
            "transport": "mqtt",
            "mqtt": live,
        }
    return out


@router.post(
    "/{device_id}/publish",
    response_model=_first_that_fits(MqttPublishResult, PublishResult),
    status_code=status.HTTP_202_ACCEPTED,
    summary="Publish a message: from the device through its simulated uplink, or under --mqtt to the "
    "device's inbox topic through the broker (operator)",
)
def publish(
    body: PublishRequest,
    device_id: DeviceId,
    edge: Edge,
    mqtt: Mqtt,
    _user: Operator,  # operators only
) -> dict[str, Any]:
    if mqtt is not None:
        return {"device_id": device_id, **mqtt.publish_inbox(edge.row_of(device_id), body.message)}
    return edge.publish(device_id, body.message)


@router.get(
    "/{device_id}/metrics",
    response_model=_first_that_fits(MqttDeviceMetrics, DeviceMetrics),
    summary="Uplink metrics: sent, received, dropped, in flight, avg_latency (ms), latency_samples; "
    "under --mqtt the device's counters and the receiver's delivery figures",
)
def device_metrics(device_id: DeviceId, edge: Edge) -> dict[str, Any]:
    return edge.device_metrics(device_id)
