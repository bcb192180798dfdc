"""Browser-facing defaults (issue 14 part A): security headers on every response, allowed hosts, the
WebSocket Origin check, a bad WebSocket frame closed without a traceback, no CDN-loaded ReDoc."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import urllib.request
from pathlib import Path

import pytest
from edgeswarm.service import create_app
from edgeswarm.service.routes.ws import origin_allowed
from edgeswarm.service.security_headers import host_name
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.service.conftest import make_settings
from tests.service.real_server import real_server

FIXED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def directives(policy: str) -> dict[str, list[str]]:
    return {name: rest for name, *rest in (part.split() for part in policy.split(";"))}


@pytest.mark.parametrize("path", ["/", "/api/status", "/docs", "/static/dashboard.css", "/no-such-page"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    for name, value in FIXED.items():
        assert response.headers[name] == value, (path, name)
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


def test_the_dashboard_policy_allows_the_websocket_to_its_own_host(client: TestClient) -> None:
    policy = directives(client.get("/").headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]
    assert policy["script-src"] == ["'self'"]


def test_docs_allow_exactly_their_one_inline_script(client: TestClient) -> None:
    response = client.get("/docs")
    scripts = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    assert len(scripts) == 1 and "SwaggerUIBundle" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert directives(response.headers["content-security-policy"])["script-src"] == [
        "'self'",
        f"'sha256-{digest}'",
    ]


def test_refusals_of_the_inner_middlewares_carry_the_headers_too(client: TestClient) -> None:
    response = client.post("/api/inject_noise", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert all(response.headers[name] == value for name, value in FIXED.items())


def test_redoc_is_gone(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "testserver.evil.example", "127.0.0.2"])
def test_a_host_not_allowed_gets_400(client: TestClient, host: str) -> None:
    response = client.get("/api/status", headers={"host": host})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert host_name(host) in detail and "allowed_hosts" in detail and "testserver" in detail
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("host", ["testserver", "TESTSERVER:8080", "localhost:9000", "127.0.0.1"])
def test_an_allowed_host_with_or_without_port_is_served(client: TestClient, host: str) -> None:
    assert client.get("/api/status", headers={"host": host}).status_code == 200


def test_host_names_lose_their_port_and_ipv6_brackets() -> None:
    assert host_name("[::1]:8080") == "::1" and host_name("[::1]") == "::1" and host_name("::1") == "::1"
    assert host_name("Example.COM:443") == "example.com" and host_name("example.com") == "example.com"


def test_a_star_allows_any_host(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "s.db", allowed_hosts=["*"]))) as client:
        assert client.get("/api/status", headers={"host": "anything.example"}).status_code == 200


def test_the_default_hosts_refuse_testserver(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d.db", allowed_hosts=None)  # the default: loopback names only
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/status").status_code == 400
        assert client.get("/api/status", headers={"host": "localhost:8080"}).status_code == 200
        assert client.get("/api/status", headers={"host": "[::1]:8080"}).status_code == 200


# ---- WebSocket Origin -----------------------------------------------------------------------------------


def _hello(client: TestClient, headers: dict[str, str]) -> str:
    with client.websocket_connect("/ws", headers=headers) as websocket:
        return websocket.receive_json()["type"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://testserver"},
        {"origin": "HTTPS://TestServer"},
        {"origin": "https://dash.lab:8443"},
    ],
)
def test_ws_serves_no_origin_its_own_origin_and_a_listed_one(tmp_path: Path, headers: dict[str, str]) -> None:
    settings = make_settings(tmp_path / "w.db", allowed_origins=["https://dash.lab:8443"])
    with TestClient(create_app(settings)) as client:
        assert _hello(client, headers) == "hello"


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://testserver:8080", "null", "http://testserver.evil.example"]
)
def test_ws_closes_any_other_origin_with_1008_before_accept(client: TestClient, origin: str) -> None:
    with pytest.raises(WebSocketDisconnect) as closed:
        _hello(client, {"origin": origin})
    assert closed.value.code == 1008


def test_ws_refuses_a_host_not_allowed(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed:
        _hello(client, {"host": "evil.example"})
    assert closed.value.code == 1008


def test_origin_rule() -> None:
    assert origin_allowed(None, "localhost:8080", [])
    assert origin_allowed("http://localhost:8080", "localhost:8080", [])
    assert not origin_allowed("http://localhost:8081", "localhost:8080", [])
    assert not origin_allowed("ftp://localhost:8080", "localhost:8080", [])
    assert not origin_allowed("http://localhost:8080", None, [])
    assert origin_allowed("https://a.lab", "localhost:8080", ["https://a.lab"])


# ---- a real server: a text frame that is not UTF-8 -------------------------------------------------------


def test_an_invalid_utf8_text_frame_closes_with_1007_and_logs_one_line(tmp_path: Path) -> None:
    websockets = pytest.importorskip("websockets", reason="the websockets package is not installed")

    async def send_bad_frame(url: str) -> tuple[int, int]:
        async with websockets.connect(url) as websocket:
            assert json.loads(await websocket.recv())["type"] == "hello"
            await websocket.send(b"\xff\xfe not UTF-8", text=True)  # a text frame, unchecked by the client
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(websocket.recv(), timeout=30)
            return closed.value.rcvd.code, closed.value.sent.code

    async def refused_origin(url: str) -> int:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, origin="http://evil.example"):
                pass
        return refused.value.response.status_code

    with real_server(tmp_path) as (base, log, _pid):
        assert asyncio.run(send_bad_frame(f"ws://{base}/ws")) == (1007, 1007)
        assert asyncio.run(refused_origin(f"ws://{base}/ws")) == 403  # closed before accept: HTTP 403
        with urllib.request.urlopen(f"http://{base}/api/status", timeout=5) as response:
            assert response.status == 200  # the server is fine
    text = log.read_text()
    assert "Traceback" not in text, text
    assert [line for line in text.splitlines() if "UTF-8" in line] == [
        "WARNING:  a WebSocket client sent a text frame that is not UTF-8; closed with 1007"
    ]
