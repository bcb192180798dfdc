"""Audit atomic with its effect: a mutating request whose audit row cannot be written is refused (503)
and not applied; the body summary is bounded and never raises; values are masked by an allow-list."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from edgeswarm.service import create_app
from edgeswarm.service.audit import MAX_DEPTH, summarize_body
from edgeswarm.service.store import Store
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


def test_a_body_deeper_than_the_summary_goes_is_audited_not_a_500(tmp_path: Path) -> None:
    # The request limits refuse bodies past max_json_depth before the audit; at the deepest setting
    # a body still passes MAX_DEPTH, and its row says so instead of failing.
    settings = make_settings(tmp_path / "deep.db", max_json_depth=128)
    with TestClient(create_app(settings)) as client:
        message = 1
        for _ in range(100):
            message = {"m": message}
        response = client.post(
            "/api/inject_noise", json=message, headers=token_headers(client, "admin", "admin")
        )
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
    odd = client.post(
        "/api/auth/token",
        content=b"username=admin&password=s3cret-login-password",
        headers={"Content-Type": "Application/X-WWW-Form-URLencoded; charset=x"},
    )
    assert odd.status_code == 415  # charset=x is not UTF-8: refused by the request limits, no row
    foo = client.post(
        "/api/auth/token", content=b"password=s3cret-foo-body", headers={"Content-Type": "application/foo"}
    )
    assert foo.status_code == 415  # refused by the request limits before the audit: no row
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
    assert whats[1:] == ["<form: username=admin, password=***>"]
    assert summarize_body(
        b"username=admin&password=s3cret", "Application/X-WWW-Form-URLencoded; charset=x"
    ) == ("<form: username=admin, password=***>")
    assert summarize_body(b"password=s3cret-foo-body", "application/foo") == "<application/foo, 24 bytes>"


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
    assert response.status_code == 422, response.text  # the request limits refuse what JSON does not have
    assert "holds Infinity" in response.json()["detail"]


def test_a_secret_in_an_unknown_field_is_not_echoed(client: TestClient, operator: dict) -> None:
    response = client.post(
        "/api/inject_byzantine", json={"count": 1, "api_key": "k3y-v4lue"}, headers=operator
    )
    assert response.status_code == 422 and "k3y-v4lue" not in response.text


# --- retention and aggregation -----------------------------------------------------------


def _checkpointed_size(db: Path) -> int:
    # The database's size with the write-ahead log folded in (the WAL itself is reused, not kept data).
    with sqlite3.connect(db) as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.stat().st_size


def test_a_flood_of_anonymous_failures_adds_a_handful_of_rows(tmp_path: Path) -> None:
    db = tmp_path / "flood.db"
    settings = make_settings(db, devices=0, rate_limit_anonymous_writes=10_000, rate_limit_failures=10_000)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.store
        rows_before, db_before = len(store.audit(limit=10_000)), _checkpointed_size(db)
        codes = {
            client.post("/api/inject_noise", json={"intensity": 0.1, "duration_sec": i % 7 + 1}).status_code
            for i in range(4588)  # the figure: 4,588 anonymous 401 POSTs
        }
        entries = store.audit(limit=10_000)
        db_after = _checkpointed_size(db)
        print(
            f"4588 anonymous 401 POSTs: +{len(entries) - rows_before} audit rows, "
            f"database {db_before} -> {db_after} bytes"
        )
    assert codes == {401}
    assert len(entries) - rows_before <= 5
    (flood,) = [e for e in entries if e["path"] == "/api/inject_noise"]
    assert flood["count"] == 4588 and flood["outcome"] == 401 and flood["who"] == "anonymous"
    assert flood["last"] > flood["when"]
    assert db_after - db_before < 64 * 1024  # was +6.4 MB of rows (issue 14, item 3)


def test_failures_of_a_known_user_are_not_aggregated(client: TestClient, viewer: dict) -> None:
    for _ in range(3):
        assert (
            client.post(
                "/api/inject_noise", json={"intensity": 0.1, "duration_sec": 1}, headers=viewer
            ).status_code
            == 403
        )
    entries = client.app.state.store.audit(limit=10)
    assert [(e["who"], e["outcome"], e["count"]) for e in entries] == [("victor", 403, 1)] * 3


def test_aggregation_ends_with_its_window(tmp_path: Path) -> None:
    with TestClient(
        create_app(make_settings(tmp_path / "w.db", devices=0, audit_aggregate_window_s=0))
    ) as client:
        for _ in range(3):
            client.post("/api/inject_noise", json={"intensity": 0.1, "duration_sec": 1})
        assert [e["count"] for e in client.app.state.store.audit(limit=10)] == [1, 1, 1]


def test_retention_prunes_the_oldest_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db", audit_max_rows=1_500)
    try:
        ids = [
            store.add_audit(who="admin", method="POST", path=f"/p/{i}", what="", outcome=200)
            for i in range(3_000)
        ]
        kept = store.audit(limit=10_000)
        assert len(kept) == 1_500 and kept[-1]["id"] == ids[1_500] and kept[0]["id"] == ids[-1]
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "r.db") as db:
        db.execute(
            "INSERT INTO audit (at, who, method, path, what, outcome) VALUES ('x', 'a', 'P', '/', '', 1)"
        )
    reopened = Store(tmp_path / "r.db", audit_max_rows=1_000)  # pruned on open too
    try:
        assert len(reopened.audit(limit=10_000)) == 1_000
    finally:
        reopened.close()


def test_an_old_audit_table_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as old:
        old.execute(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL, "
            "method TEXT NOT NULL, path TEXT NOT NULL, what TEXT NOT NULL, outcome INTEGER NOT NULL)"
        )
        old.execute(
            "INSERT INTO audit (at, who, method, path, what, outcome) VALUES ('t', 'bob', 'POST', '/', '', 200)"
        )
    store = Store(db)
    try:
        (entry,) = store.audit()
        assert (entry["count"], entry["last"], entry["when"]) == (1, "t", "t")
    finally:
        store.close()
