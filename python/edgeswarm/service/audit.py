"""The audit log: every mutating request is audited or refused (who, what, when, status code).

A pure ASGI middleware, so it also sees requests that fail before any route runs (401, 403,
422, 404, 405) and ones that raise. The entry is written BEFORE the app runs (outcome
"pending") and the request is refused with 503 if that write fails, so no write is ever
applied without its row; after the response, the row gets its status code (if that update
fails, the row keeps saying "pending": the request may have had its effect).

What is logged of a body is bounded and masked by an allow-list: only the values of fields
named in `LOGGED_FIELDS` are kept, every other value is "***"; a form is told as
`<form: username=alice, password=***>`, any other content type only by its type and size.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgeswarm.service.auth import token_subject
from edgeswarm.service.store import ANONYMOUS, utc_now

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Field names whose values are harmless to keep in the audit log and to echo in a 422; any
# other field's value is masked. An allow-list: a new secret field is masked without a change here.
LOGGED_FIELDS = frozenset(
    {
        "attack",
        "battery",
        "bias",
        "cluster_id",
        "count",
        "device_id",
        "device_type",
        "duration_sec",
        "epoch",
        "epochs",
        "id",
        "intensity",
        "kind",
        "latitude",
        "limit",
        "location",
        "longitude",
        "name",
        "nodes",
        "offset",
        "role",
        "seed",
        "sensor",
        "sensors",
        "severity",
        "status",
        "type",
        "username",
        "x",
        "y",
    }
)
MASK = "***"
MAX_DEPTH = 32  # nesting levels of a JSON body summarised; a deeper one is only described
_MAX_WHAT = 1000  # characters of the body summary kept
_MAX_VALUE = 64  # characters of one form value kept
_MAX_BODY = 64 * 1024  # bytes of a request body held for its summary (a bigger one is only counted)
_log = logging.getLogger("edgeswarm.service")


def _mask(value: Any, allowed: bool = False) -> Any:
    """`value` with every dict value whose key is not in LOGGED_FIELDS replaced by MASK; a string is kept
    only when reached through allowed keys (`_depth` is checked first, so the recursion is bounded)."""
    if isinstance(value, dict):
        return {k: _mask(v, True) if k in LOGGED_FIELDS else MASK for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, allowed) for v in value]
    if isinstance(value, str) and not allowed:
        return MASK
    return value


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (1 for a flat object)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:  # deeper than that decides nothing more
                stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _fields(value: Any) -> str:
    if isinstance(value, dict):
        return f"{len(value)} fields"
    if isinstance(value, list):
        return f"{len(value)} items"
    return "a scalar"


def _summarize_json(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except RecursionError:
        return f"<json, {len(body)} bytes, depth>{MAX_DEPTH}>"
    except (ValueError, UnicodeDecodeError):
        return f"<{len(body)} bytes, not JSON>"
    if _depth(parsed) > MAX_DEPTH:
        return f"<json, {_fields(parsed)}, depth>{MAX_DEPTH}>"
    try:
        return json.dumps(_mask(parsed), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):  # e.g. an integer of more than 4300 digits
        return f"<json, {_fields(parsed)}, not printable>"


def _summarize_form(body: bytes) -> str:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError):
        return f"<form, {len(body)} bytes, not UTF-8>"
    shown = [f"{k[:_MAX_VALUE]}={v[:_MAX_VALUE] if k in LOGGED_FIELDS else MASK}" for k, v in pairs]
    return f"<form: {', '.join(shown)}>"


def summarize_body(body: bytes, content_type: str, *, size: int | None = None) -> str:
    """A short, masked description of a request body that never raises; `size` > len(body): a body cut
    short (only its size is told)."""
    if size is not None and size > len(body):
        return f"<{size} bytes, not summarised>"
    if not body:
        return ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        if media_type == "application/json" or media_type.endswith("+json"):
            text = _summarize_json(body)
        elif media_type == "application/x-www-form-urlencoded":
            text = _summarize_form(body)
        else:  # never the raw body: a multipart form, text, or anything unknown may carry a secret
            text = f"<{media_type[:_MAX_VALUE] or 'no content-type'}, {len(body)} bytes>"
    except Exception:  # noqa: BLE001 - the summary must never turn a request into an error
        text = f"<{len(body)} bytes, not summarised>"
    return text if len(text) <= _MAX_WHAT else text[: _MAX_WHAT - 3] + "..."


def _who(scope: Scope) -> str:
    return token_subject(scope) or ANONYMOUS


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


REFUSAL = b'{"detail":"audit log unavailable; request not applied"}'


class AuditMiddleware:
    """Writes the audit entry of a mutating HTTP request before the app runs, its outcome after."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        # The body's first _MAX_BODY bytes are read now, for the summary, and replayed to the app.
        held: list[Message] = []
        chunks: list[bytes] = []
        size, complete = 0, False
        while size <= _MAX_BODY:
            message = await receive()
            held.append(message)
            if message["type"] != "http.request":
                complete = True  # a disconnect: the app sees it too
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                complete = True
                break
        body = b"".join(chunks)
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        complete = complete and size <= _MAX_BODY  # else a bigger body: only its size is told, at the end
        what = summarize_body(body, content_type) if complete else f"<more than {_MAX_BODY} bytes>"

        store = getattr(getattr(scope.get("app"), "state", None), "store", None)
        try:
            if store is None:
                raise RuntimeError("the store is not open")
            entry = store.add_audit(
                who=_who(scope),
                address=client_address(scope),
                method=scope["method"],
                path=scope["path"],
                what=what,
                outcome="pending",
                at=utc_now(),
            )
        except Exception:  # noqa: BLE001 - any failure to audit refuses the request
            _log.exception(
                "could not write the audit entry for %s %s; refused", scope["method"], scope["path"]
            )
            await _refuse(send)
            return

        outcome = 500

        async def replay_then_receive() -> Message:
            nonlocal size
            if held:
                return held.pop(0)
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
            return message

        async def send_and_note(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = int(message["status"])
            await send(message)

        try:
            await self.app(scope, replay_then_receive, send_and_note)
        finally:
            final_what = None if complete else f"<{size} bytes, not summarised>"  # None: the summary stands
            try:
                store.finish_audit(entry, outcome=outcome, what=final_what)
            except Exception:  # noqa: BLE001 - the effect is applied: the row stays "pending", which tells it
                _log.exception("audit entry %s of %s %s left pending", entry, scope["method"], scope["path"])


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(REFUSAL)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": REFUSAL})
