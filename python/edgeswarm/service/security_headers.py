"""Browser-facing defaults (issue 14 part A): security headers on every response, and the allowed-hosts check.

A pure ASGI middleware (`SecurityHeadersMiddleware`), the outermost one:

- a request (HTTP or WebSocket) whose Host header, without its port, is not in `allowed_hosts` is refused
  (HTTP 400 `{"detail": ...}`; a WebSocket is closed before accept), so a DNS-rebound name cannot reach
  the API from a browser;
- every HTTP response carries a Content-Security-Policy (unless the route set its own, as /docs does for
  its one inline script), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and
  `Referrer-Policy: no-referrer`.

The policy fits what the offline dashboard (`service/static/`) and Swagger UI at /docs load: scripts and
stylesheets from this origin only; inline styles (plotly.js writes `style` attributes and a `<style>`
element); images from this origin and `data:` (Swagger UI's icons, the dashboard's empty favicon); fetch and
the WebSocket to this host.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from edgeswarm.service.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP_HEADER = b"content-security-policy"
FIXED_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
# host[:port] as a Host header carries it (IPv6 in brackets): only such a value goes into the policy.
_HOST_AND_PORT = re.compile(r"^(?:[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(host: str | None = None, script_hashes: Iterable[str] = ()) -> str:
    """The policy: `host` (host[:port]) adds its ws:/wss: origin to connect-src (older browsers do not
    count a WebSocket to the page's own host as 'self'); `script_hashes` allow those inline scripts."""
    scripts = " ".join(["'self'", *(f"'sha256-{digest}'" for digest in script_hashes)])
    connect = "'self'" + (f" ws://{host} wss://{host}" if host and _HOST_AND_PORT.match(host) else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def inline_script_hashes(html: bytes) -> list[str]:
    """The CSP sha256 sources of the inline `<script>` elements of a page the service renders itself."""
    return [
        base64.b64encode(hashlib.sha256(script).digest()).decode() for script in _INLINE_SCRIPT.findall(html)
    ]


def host_name(host_header: str) -> str:
    """The Host header's name, without port or IPv6 brackets, lower case: '[::1]:8080' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class SecurityHeadersMiddleware:
    """Allowed hosts (400) and the browser security headers on every HTTP response."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed_hosts = frozenset(settings.allowed_hosts or ())
        self.any_host = "*" in self.allowed_hosts

    def host_allowed(self, host: str | None) -> bool:
        return self.any_host or (host is not None and host_name(host) in self.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if not self.host_allowed(host):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "host not allowed"})
                return
            await self._refuse_host(host, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        policy = content_security_policy(host).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {key.lower() for key, _ in headers}
                if CSP_HEADER not in names:  # a route that renders an inline script sets its own policy
                    headers.append((CSP_HEADER, policy))
                headers.extend(header for header in FIXED_HEADERS if header[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse_host(self, host: str | None, send: Send) -> None:
        shown = "no Host header" if host is None else f"the Host {host_name(host)[:100]!r}"
        allowed = ", ".join(sorted(self.allowed_hosts))
        detail = f"{shown} is not served here; allowed hosts (setting allowed_hosts): {allowed}"
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (CSP_HEADER, content_security_policy().encode()),
            *FIXED_HEADERS,
        ]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
