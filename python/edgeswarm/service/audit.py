"""The audit log: every mutating request, whatever its outcome (who, what, when, status code).

A pure ASGI middleware, so it also sees requests that fail before any route runs (401,
403, 422, 404, 405) and ones that raise. Passwords and secrets in the body are masked.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgeswarm.service.auth import decode_token
from edgeswarm.service.store import utc_now

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SECRET_WORDS = ("password", "secret", "token")
_MAX_WHAT = 1000  # characters of the body summary kept
_MAX_BODY = 64 * 1024  # bytes of a request body held for its summary (a bigger one is only counted)
_log = logging.getLogger("edgeswarm.service")


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "***" if any(w in str(k).lower() for w in _SECRET_WORDS) else _mask(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def summarize_body(body: bytes, content_type: str, *, size: int | None = None) -> str:
    """The request body as short JSON text with secrets masked; `size` > len(body): a body cut
    short (only its size is told)."""
    if size is not None and size > len(body):
        return f"<{size} bytes, not summarised>"
    if not body:
        return ""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            parsed: Any = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            parsed = json.loads(body)
        text = json.dumps(_mask(parsed), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        text = f"<{len(body)} bytes, not JSON>"
    return text if len(text) <= _MAX_WHAT else text[: _MAX_WHAT - 3] + "..."


def _who(scope: Scope) -> str:
    app = scope.get("app")
    key = getattr(getattr(app, "state", None), "jwt_key", None)
    for name, value in scope.get("headers", []):
        if name == b"authorization" and key:
            scheme, _, token = value.decode("latin-1").partition(" ")
            claims = decode_token(key, token.strip()) if scheme.lower() == "bearer" else None
            if claims is not None:
                return str(claims["sub"])
    return "anonymous"


class AuditMiddleware:
    """Writes one audit entry per mutating HTTP request once its response has started (or failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        at = utc_now()
        chunks: list[bytes] = []
        size = 0
        outcome = 500

        async def receive_and_keep() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= _MAX_BODY:  # a bigger body is only counted: its summary is its size
                    chunks.append(chunk)
            return message

        async def send_and_note(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_note)
        finally:
            self._record(scope, at, b"".join(chunks), size, outcome)

    @staticmethod
    def _record(scope: Scope, at: str, body: bytes, size: int, outcome: int) -> None:
        store = getattr(getattr(scope.get("app"), "state", None), "store", None)
        if store is None:
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        try:
            store.add_audit(
                who=_who(scope),
                method=scope["method"],
                path=scope["path"],
                what=summarize_body(body, content_type, size=size),
                outcome=outcome,
                at=at,
            )
        except Exception:  # noqa: BLE001 - the audit must never turn an answer into an error
            _log.exception("could not write the audit entry for %s %s", scope["method"], scope["path"])
