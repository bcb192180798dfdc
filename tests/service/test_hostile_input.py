"""Issue 14 replayed: each case a hostile but realistic user tried, and what the service does now.

Every case runs on loopback through the TestClient (a real ASGI stack: every middleware, the
handlers, SQLite); each is bounded in requests and bytes. The detailed tests of each defence
live beside it (test_request_limits, test_security_headers, test_audit_integrity,
test_rate_limit, test_secrets, tests/test_regime_monotone.py, tests/test_cli_checks.py); this
module keeps the issue's list in one place so a regression on any of them shows here by name.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from edgeswarm.service import Settings
from fastapi.testclient import TestClient

from tests.service.conftest import ADMIN_PASSWORD, login, make_settings

REGIMES = ("Calm", "PreStorm", "Storm")


def nested(depth: int) -> dict:
    """A JSON object `depth` levels deep."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def a_device(client: TestClient) -> str:
    return client.get("/api/edge/devices", params={"limit": 1}).json()["devices"][0]["device_id"]


def audit_rows(client: TestClient) -> list[dict]:
    store = client.app.state.store
    return store.audit(limit=100_000) if hasattr(store, "audit") else []


# 1. A write applied without its audit row, then a stuck 500 on a read.
@pytest.mark.parametrize("depth", [300, 500])
def test_a_deeply_nested_publish_is_refused_and_the_device_stays_readable(
    client: TestClient, operator: dict, depth: int
) -> None:
    device = a_device(client)
    response = client.post(
        f"/api/devices/{device}/publish", json={"message": nested(depth)}, headers=operator
    )
    assert response.status_code == 422, response.text
    assert "depth" in response.json()["detail"]
    metrics = client.get(f"/api/devices/{device}/metrics")
    assert metrics.status_code == 200, metrics.text
    assert metrics.json()["sent"] == 0  # nothing was applied


def test_what_the_depth_limit_accepts_is_audited_and_served_back(
    client: TestClient, operator: dict, settings: Settings
) -> None:
    device = a_device(client)
    message = nested(settings.max_json_depth - 1)  # the body adds one level: {"message": ...}
    response = client.post(f"/api/devices/{device}/publish", json={"message": message}, headers=operator)
    assert response.status_code == 202, response.text
    assert client.get(f"/api/devices/{device}/metrics").status_code == 200
    assert client.get(f"/api/devices/{device}/status").status_code == 200
    rows = [r for r in client.get("/api/audit", headers=_admin(client)).json() if "publish" in r["path"]]
    assert rows and rows[0]["outcome"] == 202


def _admin(client: TestClient) -> dict[str, str]:
    return login(client, "admin", ADMIN_PASSWORD)


# 2. A 300 MB anonymous body read whole before the auth check.
def test_a_300_mb_anonymous_body_is_cut_off_after_the_anonymous_cap(
    client: TestClient, settings: Settings
) -> None:
    """The whole ASGI app (every middleware) with a receive() that makes the 300 MB lazily, so
    what was read is what was generated."""
    chunk, total = 65536, 300 * 2**20
    sent = 0
    answers: list[dict] = []

    async def receive() -> dict:
        nonlocal sent
        sent += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": sent < total}

    async def send(message: dict) -> None:
        answers.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/inject_noise",
        "raw_path": b"/api/inject_noise",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
    }
    asyncio.run(client.app(scope, receive, send))
    assert answers[0]["status"] == 413
    assert sent <= settings.max_anonymous_body_bytes + 2 * chunk


def test_a_declared_huge_body_is_refused_before_it_is_read(client: TestClient) -> None:
    response = client.post(
        "/api/auth/token",
        content=b"username=a",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(300 * 2**20)},
    )
    assert response.status_code == 413


# 3. 4,588 anonymous 401 POSTs wrote 4,588 audit rows.
def test_an_anonymous_flood_is_rate_limited_and_does_not_flood_the_audit(client: TestClient) -> None:
    before = len(audit_rows(client))
    codes = [
        client.post("/api/inject_noise", json={"intensity": 1, "duration_sec": 1}).status_code
        for _ in range(400)
    ]
    assert set(codes) <= {401, 429}
    assert 429 in codes
    limited = client.post("/api/inject_noise", json={"intensity": 1, "duration_sec": 1})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert len(audit_rows(client)) - before <= 10  # aggregated, not one row per failure


# 4. The worse the storm, the calmer the swarm looked.
def test_the_regime_never_calms_down_while_the_injected_noise_rises(
    client: TestClient, operator: dict
) -> None:
    swarm_loop = client.app.state.swarm_loop
    seen: list[tuple[float, str]] = []
    for intensity in (0.0, 0.5, 2.0, 5.0, 10.0, 100.0, 1000.0):
        response = client.post(
            "/api/inject_noise", json={"intensity": intensity, "duration_sec": 3600}, headers=operator
        )
        assert response.status_code == 200, response.text
        for _ in range(30):
            swarm_loop.step()
        seen.append((intensity, client.get("/api/status").json()["regime"]))
    ranks = [REGIMES.index(regime) for _, regime in seen]
    assert ranks == sorted(ranks), seen
    assert seen[0][1] == "Calm" and seen[-1][1] == "Storm", seen


# 5. Secrets on disk and in the log.
def test_the_database_and_key_files_are_private_and_the_db_holds_no_signing_key(
    client: TestClient, settings: Settings
) -> None:
    db = Path(settings.db_path)
    for path in [db, *db.parent.glob(db.name + "*")]:
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, f"{path} is readable by others"
    key = client.app.state.jwt_key
    assert key.encode() not in db.read_bytes()


@pytest.mark.parametrize("field", ["passwd", "pwd", "api_key", "credentials", "Authorization", "password"])
def test_no_secret_reaches_the_audit_under_any_field_name(client: TestClient, field: str) -> None:
    admin = _admin(client)
    secret = f"S3cret-{field}-value"
    client.post(
        "/api/users", json={"username": "eve", "password": "eve-password-1", field: secret}, headers=admin
    )
    client.post(
        "/api/auth/token",
        content=f"username=admin&password={secret}".encode(),
        headers={"Content-Type": "Application/X-WWW-Form-URLencoded; charset=x"},
    )
    dump = "\n".join(sqlite3.connect(client.app.state.settings.db_path).iterdump())
    assert secret not in dump


def test_a_rejected_password_is_not_echoed_in_the_422(client: TestClient) -> None:
    response = client.post(
        "/api/users",
        json={"username": "eve", "password": "short7!", "role": "viewer"},
        headers=_admin(client),
    )
    assert response.status_code == 422
    assert "short7!" not in response.text


# 6. Tokens outlived a password change; a one-letter admin password was accepted.
@pytest.mark.parametrize("password", ["a", "", "        ", "1234567"])
def test_a_weak_admin_password_from_the_environment_is_refused(tmp_path: Path, password: str) -> None:
    with pytest.raises(ValueError, match="admin_password"):
        make_settings(tmp_path / "s.db", admin_password=password)


# 7. Browser-facing defaults.
@pytest.mark.parametrize("path", ["/", "/api/status", "/docs"])
def test_every_page_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in headers


def test_an_unknown_host_is_refused_and_redoc_is_gone(client: TestClient) -> None:
    assert client.get("/api/status", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/redoc").status_code == 404


def test_a_websocket_from_a_foreign_origin_is_refused(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()


# 8. Input strictness.
@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", b'{"intensity": 1, "duration_sec": 1}'),
        (None, b'{"intensity": 1, "duration_sec": 1}'),
        ("application/json", '{"intensity": 1, "duration_sec": 1}'.encode("utf-16")),
    ],
)
def test_json_is_taken_only_as_utf8_application_json(
    client: TestClient, operator: dict, content_type: str | None, body: bytes
) -> None:
    headers = dict(operator)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post("/api/inject_noise", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert not client.get("/api/status").json()["noise_intensity"]  # no storm was started


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/inject_noise", {"intensity": "1", "duration_sec": 1}),
        ("/api/inject_noise", {"intensity": 1, "duration_sec": "1"}),
        ("/api/inject_byzantine", {"count": "3"}),
        ("/api/inject_byzantine", {"count": 3, "bias": "0.5"}),
    ],
)
def test_a_string_is_never_taken_for_a_number(
    client: TestClient, operator: dict, path: str, body: dict
) -> None:
    assert client.post(path, json=body, headers=operator).status_code == 422


# 9. The CLI: one line and exit 2, before any work.
@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--epochs", "-3"],
        ["run", "--bias", "1e308"],
        ["run", "--nodes", "50000000000"],
        ["bench", "cmapss", "--data", "/nonexistent/cmapss"],
    ],
)
def test_the_cli_refuses_bad_arguments_in_one_line(capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    from edgeswarm.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert err[-1].startswith("edgeswarm") and "error" in err[-1]
