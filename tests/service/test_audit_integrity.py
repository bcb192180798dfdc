"""Audit atomic with its effect: a mutating request whose audit row cannot be written is refused (503)
and not applied; the body summary is bounded and never raises; values are masked by an allow-list."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from edgeswarm.service import create_app
from edgeswarm.service.audit import MAX_DEPTH, summarize_body
from fastapi.testclient import TestClient

from tests.service.conftest import ADMIN_PASSWORD, make_settings, token_headers

REFUSED = {"detail": "audit log unavailable; request not applied"}
DEVICE = {"device_id": "pump-9", "device_type": "controller", "sensor": "vibration", "x": 1.0, "y": 2.0}


def _break_audit_inserts(db: Path) -> None:
    # A real failure of the store's INSERT (as a full disk or a read-only file would cause), from
    # another connection to the same file: no mock of the store.
    with sqlite3.connect(db) as other:
        other.execute(
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit broken'); END"
        )


def test_a_request_whose_audit_row_fails_is_refused_and_not_applied(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with TestClient(create_app(make_settings(db, devices=5))) as client:
        admin = token_headers(client, "admin", "admin")
        rows_before = len(client.app.state.store.audit(limit=1000))
        _break_audit_inserts(db)

        user = client.post(
            "/api/users", json={"username": "mallory", "password": "long-enough-pw"}, headers=admin
        )
        assert user.status_code == 503 and user.json() == REFUSED
        assert client.app.state.store.user("mallory") is None

        device = client.post("/api/edge/devices", json=DEVICE, headers=admin)
        assert device.status_code == 503 and device.json() == REFUSED
        assert client.get("/api/edge/devices/pump-9").status_code == 404
        assert client.app.state.store.device("pump-9") is None

        assert client.get("/api/status").status_code == 200  # reads are not audited: still served
        assert len(client.app.state.store.audit(limit=1000)) == rows_before


def test_the_row_is_written_before_the_effect_and_finished_after(client: TestClient, admin: dict) -> None:
    seen: list[list[dict]] = []
    store = client.app.state.store
    create = store.add_user

    def add_user_and_look(*args: object) -> bool:  # what the audit holds while the effect is applied
        seen.append(store.audit(limit=1))
        return create(*args)

    store.add_user = add_user_and_look
    response = client.post(
        "/api/users", json={"username": "carol", "password": "carol-password"}, headers=admin
    )
    assert response.status_code == 201
    assert [(e["path"], e["outcome"]) for e in seen[0]] == [("/api/users", "pending")]
    (entry,) = store.audit(limit=1)
    assert entry["outcome"] == 201 and entry["id"] == seen[0][0]["id"]


def test_a_failed_outcome_update_leaves_the_row_pending(client: TestClient, admin: dict) -> None:
    db = client.app.state.settings.db_path
    with sqlite3.connect(db) as other:
        other.execute(
            "CREATE TRIGGER audit_stays BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'no update'); END"
        )
    response = client.post("/api/inject_noise", json={"intensity": 0.2, "duration_sec": 1}, headers=admin)
    assert response.status_code == 200  # the effect was audited (pending) before it ran: it stands
    (entry,) = client.app.state.store.audit(limit=1)
    assert entry["path"] == "/api/inject_noise" and entry["outcome"] == "pending"
    assert client.get("/api/audit", headers=admin).json()[0]["outcome"] == "pending"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, f"<json, 200000 bytes, depth>{MAX_DEPTH}>"),
        (
            json.dumps(
                {"a": 1, "b": 2, "c": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
            ).encode(),
            f"<json, 3 fields, depth>{MAX_DEPTH}>",
        ),
        (b'{"count": ' + b"9" * 5000 + b"}", "<5011 bytes, not JSON>"),
        (b"\xff\xfe\x00garbage\x80", "<11 bytes, not JSON>"),
        (b'{"count": 1e999}', '{"count":Infinity}'),
    ],
)
def test_the_summary_never_raises(body: bytes, expected: str) -> None:
    assert summarize_body(body, "application/json") == expected


def test_the_summary_is_bounded_in_size() -> None:
    body = json.dumps({"name": "n" * 100_000}).encode()
    assert len(summarize_body(body, "application/json")) == 1000


def test_a_deeply_nested_body_is_audited_not_a_500(client: TestClient, admin: dict) -> None:
    message = 1
    for _ in range(500):
        message = {"m": message}
    response = client.post("/api/inject_noise", json=message, headers=admin)
    assert response.status_code == 422
    (entry,) = client.app.state.store.audit(limit=1)
    assert entry["outcome"] == 422 and entry["what"] == f"<json, 1 fields, depth>{MAX_DEPTH}>"


SECRETS = {
    "passwd": "s3cret-passwd-value",
    "pwd": "s3cret-pwd-value",
    "api_key": "s3cret-api-key-value",
    "credentials": {"user": "u", "secret": "s3cret-credentials-value"},
    "Authorization": "Bearer s3cret-authorization-value",
}


def test_only_allow_listed_values_reach_the_database(client: TestClient, admin: dict) -> None:
    client.post("/api/inject_byzantine", json={"count": 3, **SECRETS}, headers=admin)
    client.post(
        "/api/auth/token",
        content=b"username=admin&password=s3cret-login-password",
        headers={"Content-Type": "Application/X-WWW-Form-URLencoded; charset=x"},
    )
    client.post(
        "/api/auth/token", content=b"password=s3cret-foo-body", headers={"Content-Type": "application/foo"}
    )
    client.post(
        "/api/auth/token",
        data={"username": "admin", "password": ADMIN_PASSWORD},  # a successful login: its password too
    )
    store = client.app.state.store
    entries = store.audit(limit=10)
    with sqlite3.connect(store.path) as db:
        dump = "\n".join(db.iterdump())
    for secret in ("s3cret", ADMIN_PASSWORD):
        assert secret not in dump
    whats = [e["what"] for e in reversed(entries)]  # oldest first
    assert json.loads(whats[0]) == {"count": 3, **{k: "***" for k in SECRETS}}
    assert whats[1] == "<form: username=admin, password=***>"
    assert whats[2] == f"<application/foo, {len(b'password=s3cret-foo-body')} bytes>"
    assert whats[3] == "<form: username=admin, password=***>"


# --- no secret echoed in a 422 -----------------------------------------------------------


def test_a_rejected_password_is_not_echoed(client: TestClient, admin: dict) -> None:
    response = client.post("/api/users", json={"username": "dave", "password": "short7!"}, headers=admin)
    assert response.status_code == 422
    assert "short7!" not in response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "password"] and "input" not in error and "8 characters" in error["msg"]


def test_an_allow_listed_value_is_still_echoed(client: TestClient, admin: dict) -> None:
    response = client.post("/api/edge/devices", json={**DEVICE, "x": -5.0}, headers=admin)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "x"] and error["input"] == -5.0


def test_an_infinite_value_is_a_422_not_a_500(client: TestClient, admin: dict) -> None:
    body = json.dumps({**DEVICE, "x": "INF"}).replace('"INF"', "Infinity")  # Python's json reads it
    response = client.post(
        "/api/edge/devices", content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "x"]


def test_a_secret_in_an_unknown_field_is_not_echoed(client: TestClient, operator: dict) -> None:
    response = client.post(
        "/api/inject_byzantine", json={"count": 1, "api_key": "k3y-v4lue"}, headers=operator
    )
    assert response.status_code == 422 and "k3y-v4lue" not in response.text
