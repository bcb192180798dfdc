"""Rate limits per client address, so that anonymous clients cannot flood the service or its audit log.

Two sliding windows of `rate_limit_window_s` seconds per address (the connection's peer, as in
login_guard):

- anonymous writes: mutating requests (POST/PUT/PATCH/DELETE) without a valid bearer token, at
  most `rate_limit_anonymous_writes` per window;
- failures: responses 401 or 403 to the address, at most `rate_limit_failures` per window; past
  it, every request from the address is refused except reads with a valid token (an operator
  behind the same NAT keeps the dashboard).

A refused request is answered 429 with `Retry-After` (whole seconds, at least 1) before any
other layer runs: it is not audited, and it does not count as a failure, so a lock lifts at most
one window after the last counted request however long a flood goes on. Reads by anonymous
viewers (the dashboard) are never limited unless they fail. A token is checked by its signature
and expiry only (`auth.decode_token`, no database), which is enough to tell "anonymous".
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgeswarm.service.audit import MUTATING, client_address
from edgeswarm.service.auth import token_subject
from edgeswarm.service.login_guard import FailureWindow
from edgeswarm.service.settings import Settings

FAILED = frozenset({401, 403})


class RateLimiter:
    """The windows of one service and its clock (`app.state.rate_limiter`; tests give it their clock)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.window_s = settings.rate_limit_window_s
        self.anonymous_writes = FailureWindow(settings.rate_limit_anonymous_writes, self.window_s)
        self.failures = FailureWindow(settings.rate_limit_failures, self.window_s)
        self.refused = 0  # requests answered 429

    def refusal(self, address: str, *, anonymous: bool, mutating: bool) -> tuple[float, str] | None:
        """(seconds to wait, the reason) if this request is to be refused, else None (and an anonymous
        write is counted)."""
        now = self.clock()
        if anonymous or mutating:
            wait = self.failures.retry_after(address, now)
            if wait > 0:
                return wait, (
                    f"too many failed requests (401/403) from this address: at most "
                    f"{self.failures.limit} per {self.window_s:g} s"
                )
        if anonymous and mutating:
            wait = self.anonymous_writes.retry_after(address, now)
            if wait > 0:
                return wait, (
                    f"too many write requests without a token from this address: at most "
                    f"{self.anonymous_writes.limit} per {self.window_s:g} s"
                )
            self.anonymous_writes.add(address, now)
        return None

    def note_status(self, address: str, status: int) -> None:
        if status in FAILED:
            self.failures.add(address, self.clock())


class RateLimitMiddleware:
    """Answers 429 to an address over its limits (see the module docstring); counts its failures."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: RateLimiter | None = getattr(getattr(scope.get("app"), "state", None), "rate_limiter", None)
        if scope["type"] != "http" or limiter is None:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        refusal = limiter.refusal(
            address, anonymous=token_subject(scope) is None, mutating=scope["method"] in MUTATING
        )
        if refusal is not None:
            limiter.refused += 1
            await _too_many(send, *refusal)
            return

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                limiter.note_status(address, int(message["status"]))
            await send(message)

        await self.app(scope, receive, send_and_note)


async def _too_many(send: Send, wait_s: float, reason: str) -> None:
    retry_after = max(1, math.ceil(wait_s))
    body = json.dumps({"detail": f"{reason}; retry after {retry_after} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
