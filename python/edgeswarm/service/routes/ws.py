"""WS /ws: a 'hello' with the status and recent history, then every epoch, alert and emergency.

A browser's connection is accepted only from the page's own origin (its Origin's host[:port] is the
request's Host) or one listed in `allowed_origins`; anything else is closed with 1008 before accept, so a
third-party page cannot read the stream. Clients that send no Origin (not a browser) are served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from edgeswarm._json import json_safe
from edgeswarm.service.hub import Subscription

router = APIRouter(tags=["stream"])

HELLO_HISTORY = 300  # epochs sent on connect
POLICY_VIOLATION = 1008  # WebSocket close code: Origin not allowed
INVALID_PAYLOAD = 1007  # WebSocket close code: a text frame that is not UTF-8
_log = logging.getLogger("edgeswarm.service.ws")
# uvicorn's WebSocket protocol closes a text frame that is not UTF-8 with 1007 itself (the app never sees
# it), but logs a traceback for it: a client's bad frame is not a server error.
_INVALID_UTF8 = "Invalid UTF-8 sequence received from client."


class _OneLineForInvalidUtf8(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _INVALID_UTF8:
            record.msg = "a WebSocket client sent a text frame that is not UTF-8; closed with 1007"
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


_ONE_LINE_FOR_INVALID_UTF8 = _OneLineForInvalidUtf8()


def quiet_invalid_utf8_tracebacks() -> None:
    """Logs uvicorn's 'Invalid UTF-8 sequence' as one warning line, without the traceback (idempotent;
    called once the server has configured its loggers)."""
    logging.getLogger("uvicorn.error").addFilter(_ONE_LINE_FOR_INVALID_UTF8)


def origin_allowed(origin: str | None, host: str | None, allowed_origins: list[str]) -> bool:
    """True for no Origin (a non-browser client), the page's own host[:port], or a listed origin."""
    if origin is None:
        return True
    origin = origin.strip().lower()
    if origin in allowed_origins:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and host is not None and parts.netloc == host.strip().lower()


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
    origin = websocket.headers.get("origin")
    if not origin_allowed(
        origin, websocket.headers.get("host"), websocket.app.state.settings.allowed_origins
    ):
        _log.warning("/ws refused the Origin %.100r (setting allowed_origins)", origin)
        await websocket.close(code=POLICY_VIOLATION)
        return
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
