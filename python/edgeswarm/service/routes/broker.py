"""The MQTT broker of the edge fleet (/api/broker): its $SYS figures, read-only and open like other reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from edgeswarm.service.mqtt_bridge import MqttBridge

router = APIRouter(prefix="/api", tags=["broker"])


def get_mqtt(request: Request) -> MqttBridge | None:
    """The MQTT bridge of the edge fleet, None with --mqtt off."""
    return getattr(request.app.state, "mqtt", None)


Mqtt = Annotated[MqttBridge | None, Depends(get_mqtt)]


class SysFigures(BaseModel):
    """The broker's $SYS figures (edgeswarm.service.broker_stats); None until the broker published them."""

    clients_connected: int | None
    messages_received: int | None = Field(description="$SYS/broker/publish/messages/received")
    messages_sent: int | None = Field(description="$SYS/broker/publish/messages/sent")
    dropped: int | None = Field(description="$SYS/broker/publish/messages/dropped")
    received_per_s: float | None = Field(description="change of messages_received between two updates")
    sent_per_s: float | None = Field(description="change of messages_sent between two updates")
    load_received_per_min: float | None = Field(description="the broker's 1-minute average")
    load_sent_per_min: float | None
    uptime: str | None
    version: str | None
    connected: bool = Field(description="the service's $SYS reader is connected")
    refused: str | None = Field(description="why the broker refused the reader, if it did")
    updated_at: float | None = Field(description="Unix time of the latest $SYS message")


class BrokerState(BaseModel):
    mode: str = Field(description="off, embedded or mqtt://host:port")
    error: str | None = Field(None, description="why the MQTT fleet did not start, when it did not")
    url: str | None = None
    sys: SysFigures | None = None
    devices: dict[str, int] | None = Field(None, description="MQTT devices per status")
    receiver: dict[str, int] | None = Field(None, description="what the service's receiver heard")


@router.get("/broker", response_model=BrokerState, summary="The edge fleet's MQTT broker: $SYS figures")
def broker(request: Request, mqtt: Mqtt) -> dict[str, Any]:
    mode: str = getattr(request.app.state, "mqtt_mode", "off")
    if mqtt is None:
        return {"mode": mode, "error": getattr(request.app.state, "mqtt_error", None)}
    return {"mode": mode, **mqtt.broker()}
