"""Request bodies checked before any handler or dependency reads them: size, content type, JSON depth
and numbers.

A pure ASGI middleware (`RequestLimitsMiddleware`). For POST/PUT/PATCH/DELETE it

- caps the body while it streams in: a Content-Length over the cap is answered 413 without reading a
  byte, and a body without one is counted chunk by chunk and cut off (413) as soon as it passes the
  cap, so no more than the cap is ever buffered. Callers whose bearer token has a good signature and
  expiry get `max_body_bytes`; everyone else `max_anonymous_body_bytes` (enough for the login form);
- accepts only `application/json` (optionally `; charset=utf-8`) in UTF-8, and on the login path the
  OAuth2 form `application/x-www-form-urlencoded`; anything else with a non-empty body is a 415;
- refuses JSON nested deeper than `max_json_depth` (422), so nothing accepted is too deep to store,
  audit or serve back, and numbers JSON does not have (NaN, Infinity, 1e400; 422);
- then replays the same bytes to the app.

Every refusal is `{"detail": "<one sentence naming the limit and the allowed value>"}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from itertools import accumulate
from typing import Any

from edgeswarm.service.auth import token_subject
from edgeswarm.service.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATH = "/api/auth/token"  # the OAuth2 password flow posts a form here
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

# JSON strings (escapes included) are removed before counting brackets: a '[' inside one is text.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (0 for a scalar), counted without parsing
    it, so a hostile depth costs no recursion."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def media_type_error(content_type: str | None, path: str) -> str | None:
    """Why a non-empty body with this Content-Type is refused (415), or None if it is accepted."""
    allowed = f"{JSON_TYPE} (UTF-8)" + (f" or {FORM_TYPE}" if path == LOGIN_PATH else "")
    if content_type is None:
        return f"a request body needs a Content-Type header; allowed: {allowed}"
    kind, *parameters = (part.strip().lower() for part in content_type.split(";"))
    accepted = {JSON_TYPE, FORM_TYPE} if path == LOGIN_PATH else {JSON_TYPE}
    charset_ok = all(p.replace(" ", "") in ("charset=utf-8", 'charset="utf-8"') for p in parameters if p)
    if kind not in accepted or not charset_ok:
        return f"Content-Type {content_type[:100]!r} is not accepted here; allowed: {allowed}"
    return None


def encoding_error(body: bytes) -> str | None:
    """Why a body is not UTF-8 text (415), or None. A NUL byte is never in UTF-8 JSON or a form, but it is in
    UTF-16 text, which Python's json would otherwise detect and parse."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the request body is not UTF-8 (invalid byte at offset {error.start}); allowed: {JSON_TYPE} in UTF-8"
    if b"\x00" in body:
        return f"the request body contains NUL bytes (UTF-16 or UTF-32 text?); allowed: {JSON_TYPE} in UTF-8"
    return None


class _NotFinite(ValueError):
    """A JSON number no float holds, or one of Python's NaN/Infinity extensions."""


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotFinite(f"the JSON number {text[:40]} is beyond a 64-bit float; allowed finite numbers")
    return value


def _no_constant(name: str) -> float:
    raise _NotFinite(f"the JSON body holds {name}, which JSON does not have; allowed finite numbers")


def number_error(body: bytes) -> str | None:
    """Why a JSON body's numbers are refused (422), or None. Python's json reads NaN, Infinity and 1e400
    (as inf) where JSON has none; stored, they would read back as null (or not at all). Text that is not
    JSON is left to the app, whose 422 says where it breaks."""
    try:
        json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except _NotFinite as error:
        return str(error)
    except ValueError as error:  # not JSON, or an integer past Python's 4,300 digits
        return None if isinstance(error, json.JSONDecodeError) else f"the JSON body is refused: {error}"
    return None


class BodyTooLarge(Exception):
    """The body passed its cap while it was read."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is never read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_capped(receive: Receive, cap: int) -> bytes | None:
    """The whole body, read chunk by chunk; BodyTooLarge as soon as it passes `cap` bytes (nothing more is
    read); None if the client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class RequestLimitsMiddleware:
    """Body cap (413), content type and UTF-8 (415), JSON depth (422) on every request with a body."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def cap_for(self, scope: Scope) -> int:
        """The body cap of this caller: the larger one if its bearer token is valid (signature and expiry only:
        no database read before the body is bounded; the route still checks the user)."""
        if token_subject(scope) is not None:
            return self.settings.max_body_bytes
        return self.settings.max_anonymous_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope)
        content_type = _header(scope, b"content-type")
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _refuse(send, 400, f"Content-Length {declared[:40]!r} is not a whole number of bytes")
                return
            if int(declared) > cap:
                await _refuse(
                    send, 413, f"the request body of {int(declared)} bytes exceeds the {cap}-byte limit"
                )
                return
            if int(declared) > 0 and (why := media_type_error(content_type, scope["path"])):
                await _refuse(send, 415, why)  # refused before reading the body
                return
        try:
            body = await read_capped(receive, cap)
        except BodyTooLarge:
            await _refuse(send, 413, f"the request body exceeds the {cap}-byte limit")
            return
        if body is None:
            return  # the client went away; there is no one to answer
        if body and (why := media_type_error(content_type, scope["path"]) or encoding_error(body)):
            await _refuse(send, 415, why)
            return
        limit = self.settings.max_json_depth
        if body and content_type is not None and content_type.lower().startswith(JSON_TYPE):
            depth = json_depth(body)
            if depth > limit:
                await _refuse(send, 422, f"the JSON body is nested {depth} deep; the depth limit is {limit}")
                return
            if why := number_error(body):
                await _refuse(send, 422, why)
                return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that yields the buffered body once, then whatever the client sends next (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
