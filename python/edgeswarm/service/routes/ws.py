"""WS /ws: a 'hello' with the status and recent history, then every epoch, alert and emergency."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from edgeswarm._json import json_safe
from edgeswarm.service.hub import Subscription

router = APIRouter(tags=["stream"])

HELLO_HISTORY = 300  # epochs sent on connect


async def _pump(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        await websocket.send_text(await subscription.get())


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    """Server → client JSON: {"type": "hello", "status", "history"} once, then
    {"type": "epoch", "data", "nodes": {"state": [...]}} per epoch and
    {"type": "alert" | "emergency" | "edge", "data"} as they happen. Client messages are ignored."""
    hub = websocket.app.state.hub
    swarm_loop = websocket.app.state.swarm_loop
    await websocket.accept()
    # Subscribe before taking the snapshot, so no epoch falls between the two (one may come twice).
    subscription = hub.subscribe()
    pump: asyncio.Task | None = None
    try:
        hello = {"type": "hello", "status": swarm_loop.status(), "history": swarm_loop.history(HELLO_HISTORY)}
        hello["status"]["ws"] = hub.stats()
        await websocket.send_json(json_safe(hello))
        pump = asyncio.create_task(_pump(websocket, subscription))
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(subscription)
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
