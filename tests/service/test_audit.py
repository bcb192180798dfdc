"""GET /api/audit: every mutating request is logged, whatever its outcome; secrets are masked."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi.testclient import TestClient

from tests.service.conftest import ADMIN_PASSWORD


def _entries(client: TestClient, admin: dict) -> list[dict]:
    response = client.get("/api/audit", params={"limit": 1000}, headers=admin)
    assert response.status_code == 200
    return response.json()


def test_success_and_every_kind_of_failure_is_logged(
    client: TestClient, admin: dict, operator: dict, viewer: dict
) -> None:
    client.post("/api/inject_byzantine", json={"count": 4, "bias": 0.5})  # 401
    client.post("/api/inject_byzantine", json={"count": 4}, headers=viewer)  # 403
    client.post("/api/inject_byzantine", json={"count": -4}, headers=operator)  # 422
    client.post("/api/inject_byzantine", json={"count": 4}, headers=operator)  # 200
    client.post("/api/inject_noise", json={"intensity": 0.3, "duration_sec": 5}, headers=admin)  # 200
    client.get("/api/status")  # a read: not logged

    entries = _entries(client, admin)
    rows = [(e["who"], e["method"], e["path"], e["outcome"]) for e in entries[:5]]
    assert rows == [
        ("admin", "POST", "/api/inject_noise", 200),
        ("olivia", "POST", "/api/inject_byzantine", 200),
        ("olivia", "POST", "/api/inject_byzantine", 422),
        ("victor", "POST", "/api/inject_byzantine", 403),
        ("anonymous", "POST", "/api/inject_byzantine", 401),
    ]
    assert json.loads(entries[4]["what"]) == {"count": 4, "bias": 0.5}
    assert json.loads(entries[2]["what"]) == {"count": -4}
    assert all(e["path"] != "/api/status" for e in entries)
    when = datetime.fromisoformat(entries[0]["when"])
    assert when.utcoffset().total_seconds() == 0


def test_passwords_never_reach_the_log(client: TestClient, admin: dict) -> None:
    client.post("/api/auth/token", data={"username": "admin", "password": "a-wrong-guess"})
    client.post(
        "/api/users", json={"username": "eve", "password": "eve-secret-pw", "role": "viewer"}, headers=admin
    )
    entries = _entries(client, admin)
    text = json.dumps(entries)
    for secret in ("a-wrong-guess", "eve-secret-pw", ADMIN_PASSWORD):
        assert secret not in text
    logins = [e for e in entries if e["path"] == "/api/auth/token"]
    assert [e["outcome"] for e in logins][:1] == [401]
    assert logins[0]["what"] == "<form: username=admin, password=***>"  # a form: never its raw body
    created = next(e for e in entries if e["path"] == "/api/users")
    assert created["outcome"] == 201 and json.loads(created["what"])["password"] == "***"


def test_unknown_paths_and_methods_are_logged_too(client: TestClient, admin: dict) -> None:
    assert client.post("/api/nothing-here", json={}).status_code in (404, 405)
    assert client.delete("/api/status").status_code == 405
    entries = _entries(client, admin)
    assert ("DELETE", "/api/status", 405) in [(e["method"], e["path"], e["outcome"]) for e in entries]
    assert "/api/nothing-here" in [e["path"] for e in entries]


def test_audit_paging_and_bounds(client: TestClient, admin: dict) -> None:
    for i in range(5):
        client.post("/api/inject_noise", json={"intensity": 0.1 * i, "duration_sec": 1}, headers=admin)
    page = client.get("/api/audit", params={"limit": 2, "offset": 1}, headers=admin).json()
    everything = _entries(client, admin)
    assert page == everything[1:3]
    assert client.get("/api/audit", params={"limit": 0}, headers=admin).status_code == 422
    assert client.get("/api/audit", params={"offset": -1}, headers=admin).status_code == 422
