"""Request bodies bounded before any handler reads them (issue 14 part A): size while streaming (413),
content type and UTF-8 (415), JSON depth (422), and whatever is accepted reads back."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import select
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from edgeswarm.service import create_app
from edgeswarm.service.auth import User, issue_token
from edgeswarm.service.request_limits import RequestLimitsMiddleware, json_depth
from edgeswarm.service.settings import Settings
from fastapi.testclient import TestClient

from tests.service.conftest import ADMIN_PASSWORD, login, make_settings
from tests.service.real_server import real_server

ANONYMOUS_CAP = 16 * 1024
AUTHENTICATED_CAP = 1024 * 1024
CHUNK = 64 * 1024
KEY = "a-test-signing-key-of-32-bytes-or-more"


def nested(depth: int) -> Any:
    """A JSON value `depth` levels deep (arrays around a number)."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def publish_body(depth: int) -> dict[str, Any]:
    """A publish body nested `depth` deep in all: the outer object is level 1, the message object level 2."""
    return {"message": {"x": nested(depth - 2)}}


# ---- the middleware on its own, with a receive() that counts what the client sent ----------------------


class Upload:
    """A client sending `total` bytes in `chunk`-byte pieces, each made only when the server asks for it."""

    def __init__(self, total: int, chunk: int = CHUNK) -> None:
        self.total, self.chunk, self.yielded = total, chunk, 0
        self._pieces = self._generate()

    def _generate(self) -> Iterator[bytes]:
        while self.yielded < self.total:
            piece = b" " * min(self.chunk, self.total - self.yielded)
            self.yielded += len(piece)
            yield piece

    async def receive(self) -> dict[str, Any]:
        piece = next(self._pieces, b"")
        return {"type": "http.request", "body": piece, "more_body": self.yielded < self.total}


def call(upload: Upload, headers: dict[str, str], path: str = "/api/x") -> tuple[int, dict[str, Any], bool]:
    """(status, JSON answer, whether the inner app ran) for one POST through the middleware."""
    reached: list[bytes] = []

    async def inner(_scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        reached.append(message["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": SimpleNamespace(state=SimpleNamespace(jwt_key=KEY)),
    }
    middleware = RequestLimitsMiddleware(inner, Settings())
    asyncio.run(middleware(scope, upload.receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), bool(reached)


def test_a_declared_content_length_over_the_cap_is_refused_without_reading_a_byte() -> None:
    upload = Upload(ANONYMOUS_CAP + 1)
    status, answer, reached = call(upload, {"content-type": "application/json", "content-length": "16385"})
    assert (status, reached, upload.yielded) == (413, False, 0)
    assert "16385 bytes" in answer["detail"] and "16384-byte limit" in answer["detail"]


def test_a_300_mb_anonymous_chunked_body_is_cut_off_after_at_most_the_cap_and_two_chunks() -> None:
    upload = Upload(300 * 1024 * 1024)  # made lazily: only what the middleware reads is ever generated
    status, answer, reached = call(upload, {"content-type": "application/json"})
    assert status == 413 and not reached
    assert "16384-byte limit" in answer["detail"]
    assert upload.yielded <= ANONYMOUS_CAP + 2 * CHUNK


def test_small_chunks_are_cut_off_at_the_first_chunk_past_the_cap() -> None:
    upload = Upload(10 * ANONYMOUS_CAP, chunk=1000)
    status, _, _ = call(upload, {"content-type": "application/json"})
    assert status == 413 and upload.yielded == 17_000  # the 17th chunk passes 16,384 bytes


def test_a_valid_token_raises_the_cap_and_a_forged_or_expired_one_does_not() -> None:
    good = issue_token(KEY, User("olivia", "operator"), 60)
    forged = issue_token("another-key-of-the-same-length-000000", User("olivia", "operator"), 60)
    expired = issue_token(KEY, User("olivia", "operator"), -1)
    for token, cap in ((good, AUTHENTICATED_CAP), (forged, ANONYMOUS_CAP), (expired, ANONYMOUS_CAP)):
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        assert call(Upload(cap), headers)[:3:2] == (204, True)  # exactly the cap: through to the app
        over = Upload(10 * cap)
        status, answer, reached = call(over, headers)
        assert (status, reached) == (413, False) and f"{cap}-byte limit" in answer["detail"]
        assert over.yielded <= cap + 2 * CHUNK


def test_the_body_reaches_the_app_unchanged() -> None:
    payload = json.dumps({"message": {"x": nested(10)}, "text": '[{"not": nesting}]'}).encode()

    class Once(Upload):
        async def receive(self) -> dict[str, Any]:
            self.yielded = len(payload)
            return {"type": "http.request", "body": payload, "more_body": False}

    reached: list[bytes] = []

    async def inner(_scope: dict[str, Any], receive: Any, send: Any) -> None:
        reached.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/x",
        "headers": [(b"content-type", b"application/json")],
        "app": SimpleNamespace(state=SimpleNamespace(jwt_key=KEY)),
    }
    asyncio.run(RequestLimitsMiddleware(inner, Settings())(scope, Once(0).receive, send))
    assert reached == [payload]


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "\\"[[[", "b": [[]]}', 3),  # an escaped quote does not end the string
        (json.dumps(nested(500)), 500),
    ],
)
def test_json_depth_counts_nesting_outside_strings(text: str, depth: int) -> None:
    assert json_depth(text.encode()) == depth


# ---- through the service ---------------------------------------------------------------------------------


@pytest.fixture
def device(client: TestClient) -> str:
    return client.get("/api/edge/devices").json()["devices"][0]["device_id"]


def _post(client: TestClient, path: str, content: bytes, **headers: str) -> Any:
    return client.post(path, content=content, headers=headers)


def test_anonymous_and_authenticated_caps_through_the_service(
    client: TestClient, operator: dict[str, str], device: str
) -> None:
    big = json.dumps({"message": "x" * (AUTHENTICATED_CAP - 100)}).encode()
    anonymous = _post(client, f"/api/devices/{device}/publish", big, **{"content-type": "application/json"})
    assert anonymous.status_code == 413 and "16384-byte limit" in anonymous.json()["detail"]
    signed_in = _post(
        client, f"/api/devices/{device}/publish", big, **{"content-type": "application/json"}, **operator
    )
    assert signed_in.status_code == 422  # through the cap: the model's own 4096-byte message limit answers
    assert "allowed at most 4096" in json.dumps(signed_in.json())
    too_big = json.dumps({"message": "x" * AUTHENTICATED_CAP}).encode()
    refused = _post(
        client, f"/api/devices/{device}/publish", too_big, **{"content-type": "application/json"}, **operator
    )
    assert refused.status_code == 413 and "1048576-byte limit" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("content_type", "content", "why"),
    [
        ("text/plain", b'{"intensity": 1, "duration_sec": 1}', "'text/plain' is not accepted"),
        (None, b'{"intensity": 1, "duration_sec": 1}', "needs a Content-Type"),
        ("application/json; charset=latin-1", b'{"intensity": 1, "duration_sec": 1}', "not accepted"),
        ("application/x-www-form-urlencoded", b"intensity=1&duration_sec=1", "not accepted"),
        ("application/json", json.dumps({"intensity": 1, "duration_sec": 1}).encode("utf-16"), "not UTF-8"),
        ("application/json", json.dumps({"intensity": 1, "duration_sec": 1}).encode("utf-16-le"), "NUL"),
    ],
)
def test_bodies_that_are_not_utf8_json_get_415(
    client: TestClient, operator: dict[str, str], content_type: str | None, content: bytes, why: str
) -> None:
    headers = dict(operator) | ({"content-type": content_type} if content_type else {})
    response = client.post("/api/inject_noise", content=content, headers=headers)
    assert response.status_code == 415
    assert why in response.json()["detail"] and "application/json" in response.json()["detail"]
    assert not [e for e in client.app.state.store.audit(limit=10) if e["path"] == "/api/inject_noise"]


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=UTF-8"])
def test_json_with_or_without_the_utf8_charset_is_accepted(
    client: TestClient, operator: dict[str, str], content_type: str
) -> None:
    body = json.dumps({"intensity": 1.0, "duration_sec": 1.0}).encode()
    response = client.post(
        "/api/inject_noise", content=body, headers={"content-type": content_type, **operator}
    )
    assert response.status_code == 200, response.text


def test_the_login_form_still_works_and_only_on_the_login_path(client: TestClient) -> None:
    headers = login(client, "admin", ADMIN_PASSWORD)
    assert headers["Authorization"].startswith("Bearer ")
    as_json = client.post("/api/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert as_json.status_code == 422  # JSON is allowed through; the OAuth2 form fields are missing


def test_a_body_deeper_than_the_limit_is_refused_before_the_handler(
    client: TestClient, operator: dict[str, str], device: str
) -> None:
    before = client.get(f"/api/devices/{device}/metrics").json()["sent"]
    for depth in (33, 300, 500):
        response = client.post(f"/api/devices/{device}/publish", json=publish_body(depth), headers=operator)
        assert response.status_code == 422
        assert response.json() == {"detail": f"the JSON body is nested {depth} deep; the depth limit is 32"}
    metrics = client.get(f"/api/devices/{device}/metrics")
    assert metrics.status_code == 200 and metrics.json()["sent"] == before  # nothing was published


def _delivered(client: TestClient, operator: dict[str, str], device: str, body: dict[str, Any]) -> Any:
    """Publishes `body` until one copy is in flight (the uplink's loss is seeded), steps the loop until it
    arrives, and returns the metrics' inbox."""
    for _ in range(20):
        response = client.post(f"/api/devices/{device}/publish", json=body, headers=operator)
        assert response.status_code == 202, response.text
        if response.json()["status"] == "in_flight":
            break
    for _ in range(5):
        client.app.state.swarm_loop.step()
    metrics = client.get(f"/api/devices/{device}/metrics")
    assert metrics.status_code == 200, metrics.text
    return metrics.json()["inbox"]


def test_a_body_at_the_depth_limit_is_accepted_and_reads_back(
    client: TestClient, operator: dict[str, str], device: str
) -> None:
    body = publish_body(32)
    inbox = _delivered(client, operator, device, body)
    assert inbox[-1]["message"] == body["message"]
    assert json_depth(json.dumps(body).encode()) == 32


@pytest.mark.parametrize(
    "number, detail",
    [
        ("NaN", "holds NaN"),
        ("Infinity", "holds Infinity"),
        ("-Infinity", "holds -Infinity"),
        ("1e400", "1e400 is beyond a 64-bit float"),
        ("-1e400", "-1e400 is beyond a 64-bit float"),
    ],
)
def test_numbers_json_does_not_have_are_refused_so_nothing_reads_back_as_null(
    client: TestClient, operator: dict[str, str], device: str, number: str, detail: str
) -> None:
    body = f'{{"message": {{"reading": {number}}}}}'.encode()
    response = client.post(
        f"/api/devices/{device}/publish",
        content=body,
        headers={**operator, "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and detail in response.json()["detail"], response.text
    assert client.get(f"/api/devices/{device}/metrics").json()["sent"] == 0


def test_a_huge_but_finite_number_is_accepted_and_reads_back_exactly(
    client: TestClient, operator: dict[str, str], device: str
) -> None:
    body = {"message": {"big": 10**4000, "small": 5e-324, "large": 1.7976931348623157e308}}
    assert _delivered(client, operator, device, body)[-1]["message"] == body["message"]


def test_at_the_largest_allowed_depth_setting_an_accepted_body_still_reads_back(tmp_path: Path) -> None:
    deepest = Settings.model_fields["max_json_depth"].metadata[-1].le
    with TestClient(create_app(make_settings(tmp_path / "deep.db", max_json_depth=deepest))) as client:
        operator = {
            "Authorization": f"Bearer {issue_token(client.app.state.jwt_key, User('admin', 'admin'), 5)}"
        }
        device = client.get("/api/edge/devices").json()["devices"][0]["device_id"]
        body = publish_body(deepest)
        inbox = _delivered(client, operator, device, body)
        assert inbox[-1]["message"] == body["message"]
        refused = client.post(
            f"/api/devices/{device}/publish", json=publish_body(deepest + 1), headers=operator
        )
        assert refused.status_code == 422 and "depth" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("max_body_bytes", 0, "greater than or equal to 1"),
        ("max_body_bytes", 2**40, "less than or equal to"),
        ("max_anonymous_body_bytes", 2 * 1024 * 1024, "exceeds max_body_bytes"),
        ("max_json_depth", 0, "greater than or equal to 1"),
        ("max_json_depth", 1000, "less than or equal to 128"),
        ("allowed_hosts", ["bad host"], "not a host name"),
        ("allowed_origins", ["example.com"], "http(s)://host[:port]"),
    ],
)
def test_request_edge_settings_are_checked(name: str, value: object, allowed: str) -> None:
    with pytest.raises(ValueError, match=name) as error:
        Settings(**{name: value})
    assert allowed in str(error.value)


def test_allowed_hosts_default_to_loopback_and_the_bound_host() -> None:
    assert Settings().allowed_hosts == ["localhost", "127.0.0.1", "::1"]
    assert Settings(host="0.0.0.0").allowed_hosts == ["localhost", "127.0.0.1", "::1"]
    assert Settings(host="Edge.Lab").allowed_hosts == ["localhost", "127.0.0.1", "::1", "edge.lab"]


# ---- a real server: big anonymous uploads while the epoch loop runs ------------------------------------

UPLOADS = 4  # at once
UPLOAD_BYTES = 300 * 1024 * 1024
EPOCHS_UNDER_LOAD = 20
EPOCH_MS = 100
REAL_DEADLINE_S = 60.0


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def _upload(address: tuple[str, int]) -> tuple[bytes, int]:
    """POSTs a 300 MB chunked anonymous body, made lazily, until the server answers or drops the connection;
    (the first bytes of the answer, the body bytes this client managed to send)."""
    piece = b"x" * CHUNK
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    with socket.create_connection(address, timeout=30) as connection:
        head = f"POST /api/inject_noise HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n"
        head += "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        connection.sendall(head.encode())
        try:
            while sent < UPLOAD_BYTES:
                if select.select([connection], [], [], 0)[0]:
                    break  # the server answered before the body ended
                connection.sendall(frame)
                sent += len(piece)
            return connection.recv(4096), sent
        except (BrokenPipeError, ConnectionResetError):
            return b"", sent


def _status(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{base}/api/status", timeout=10) as response:
        return json.loads(response.read())


def test_big_anonymous_uploads_are_cut_off_and_the_epoch_loop_stays_on_time(tmp_path: Path) -> None:
    with real_server(tmp_path, EDGESWARM_EPOCH_MS=str(EPOCH_MS)) as (base, _log, pid):
        host, port = base.split(":")
        first = _status(base)["epoch"]
        rss_before = _rss_kib(pid)
        results: list[tuple[bytes, int]] = []
        deadline = time.monotonic() + REAL_DEADLINE_S
        # Waves of uploads until the loop has run EPOCHS_UNDER_LOAD epochs meanwhile (or the deadline).
        while _status(base)["epoch"] - first < EPOCHS_UNDER_LOAD and time.monotonic() < deadline:
            with concurrent.futures.ThreadPoolExecutor(UPLOADS) as pool:
                results += pool.map(_upload, [(host, int(port))] * UPLOADS)
        after = _status(base)
        rss_after = _rss_kib(pid)
    answers = [answer for answer, _ in results]
    sent = [count for _, count in results]
    lateness = after["loop"]["lateness_ms"]
    print(
        f"\n{len(results)} anonymous 300 MB uploads over {after['epoch'] - first} epochs of {EPOCH_MS} ms: "
        f"at most {max(sent)} bytes sent each, {sum(a.startswith(b'HTTP/1.1 413') for a in answers)} answered 413, "
        f"{sum(a.startswith(b'HTTP/1.1 429') for a in answers)} 429 (the others reset); server RSS {rss_before} -> {rss_after} KiB; epoch lateness ms {lateness}"
    )
    assert after["epoch"] - first >= EPOCHS_UNDER_LOAD
    # 413 from the body cap, 429 once the address passed the anonymous-write rate limit, or a reset.
    refused = (b"HTTP/1.1 413", b"HTTP/1.1 429")
    assert all(answer.startswith(refused) or answer == b"" for answer in answers), answers
    assert any(answer.startswith(b"HTTP/1.1 413") for answer in answers), answers
    assert max(sent) < UPLOAD_BYTES // 10  # cut off early: what the socket buffers took, not the body
    assert rss_after - rss_before < 64 * 1024  # KiB: no body is buffered past its cap
    # On time, measured against the loop's own period: 99% of epochs start less than one period late
    # (issue 14 saw stalls of 1.74 s, 17 periods of 100 ms).
    assert lateness["p99"] < EPOCH_MS, lateness
