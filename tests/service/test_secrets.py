"""Secrets: tokens revoked by a password or role change (token generation), the admin password's
rule, database and key files readable by their owner only, the JWT key outside the database."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pydantic
import pytest
from edgeswarm.service import create_app
from edgeswarm.service.routes.users import NewUser
from edgeswarm.service.settings import MIN_PASSWORD_LENGTH, Settings
from edgeswarm.service.store import Store
from fastapi.testclient import TestClient

from tests.service.conftest import ADMIN_PASSWORD, add_user, login, make_settings

NOISE = ("/api/inject_noise", {"intensity": 0.1, "duration_sec": 1})


def _status_with(client: TestClient, headers: dict) -> int:
    return client.post(NOISE[0], json=NOISE[1], headers=headers).status_code


# --- token generation --------------------------------------------------------------------


def test_a_password_change_revokes_earlier_tokens(client: TestClient, admin: dict) -> None:
    old = add_user(client, admin, "paula", "operator")  # password "paula-password"
    assert _status_with(client, old) == 200
    changed = client.post(
        "/api/users/me/password",
        json={"current_password": "paula-password", "new_password": "paula-new-password"},
        headers=old,
    )
    assert changed.status_code == 200, changed.text
    assert _status_with(client, old) == 401
    response = client.post("/api/auth/token", data={"username": "paula", "password": "paula-password"})
    assert response.status_code == 401
    new = login(client, "paula", "paula-new-password")
    assert _status_with(client, new) == 200


def test_a_wrong_current_password_changes_nothing(client: TestClient, admin: dict) -> None:
    old = add_user(client, admin, "quentin", "viewer")
    wrong = client.post(
        "/api/users/me/password",
        json={"current_password": "not-my-password", "new_password": "quentin-new-password"},
        headers=old,
    )
    assert wrong.status_code == 403 and "current_password" in wrong.json()["detail"]
    assert client.get("/api/status", headers=old).status_code == 200
    login(client, "quentin", "quentin-password")  # unchanged
    short = client.post(
        "/api/users/me/password",
        json={"current_password": "quentin-password", "new_password": "short7!"},
        headers=old,
    )
    assert short.status_code == 422 and "short7!" not in short.text


def test_an_admin_changes_a_role_and_the_old_token_stops_working(client: TestClient, admin: dict) -> None:
    old = add_user(client, admin, "rita", "operator")
    changed = client.patch("/api/users/rita", json={"role": "viewer"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    assert _status_with(client, old) == 401
    new = login(client, "rita", "rita-password")
    assert _status_with(client, new) == 403  # a viewer now


def test_an_admin_resets_a_password(client: TestClient, admin: dict) -> None:
    old = add_user(client, admin, "sam", "operator")
    assert (
        client.patch("/api/users/sam", json={"password": "sam-reset-password"}, headers=admin).status_code
        == 200
    )
    assert _status_with(client, old) == 401
    assert _status_with(client, login(client, "sam", "sam-reset-password")) == 200


def test_user_changes_are_checked(client: TestClient, admin: dict, operator: dict) -> None:
    assert client.patch("/api/users/nobody", json={"role": "viewer"}, headers=admin).status_code == 404
    assert client.patch("/api/users/olivia", json={}, headers=admin).status_code == 422
    assert client.patch("/api/users/olivia", json={"role": "root"}, headers=admin).status_code == 422
    assert client.patch("/api/users/olivia", json={"role": "admin"}, headers=operator).status_code == 403
    last = client.patch("/api/users/admin", json={"role": "viewer"}, headers=admin)
    assert last.status_code == 409 and "last admin" in last.json()["detail"]


def test_a_token_without_a_generation_is_refused(client: TestClient) -> None:
    headers = login(client, "admin", ADMIN_PASSWORD)
    claims = jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})
    assert claims["gen"] == 0
    bare = jwt.encode(
        {"sub": "admin", "role": "admin", "exp": datetime.now(timezone.utc) + timedelta(minutes=5)},
        client.app.state.jwt_key,
        algorithm="HS256",
    )
    assert client.get("/api/users", headers={"Authorization": f"Bearer {bare}"}).status_code == 401
    assert client.get("/api/users", headers=headers).status_code == 200


def test_an_old_users_table_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as old:
        old.execute(
            "CREATE TABLE users (username TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL, "
            "password_hash BLOB NOT NULL, created_at TEXT NOT NULL)"
        )
        old.execute("INSERT INTO users VALUES ('ann', 'viewer', x'00', x'00', '2026-01-01')")
    store = Store(db)
    try:
        assert store.user("ann")["token_generation"] == 0
        assert store.set_role("ann", "operator") and store.user("ann")["token_generation"] == 1
    finally:
        store.close()


# --- the admin password's rule -----------------------------------------------------------


@pytest.mark.parametrize("password", ["a", "short7!", "", "   ", "\t\n        "])
def test_an_unusable_admin_password_is_refused(password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(pydantic.ValidationError, match=f"admin_password.*{MIN_PASSWORD_LENGTH}"):
        Settings(admin_password=password)
    monkeypatch.setenv("EDGESWARM_ADMIN_PASSWORD", password)
    with pytest.raises(pydantic.ValidationError, match="admin_password"):
        Settings()


def test_a_usable_or_missing_admin_password_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGESWARM_ADMIN_PASSWORD", raising=False)
    assert Settings().admin_password is None  # generated at first start
    assert Settings(admin_password="x" * MIN_PASSWORD_LENGTH).admin_password == "x" * MIN_PASSWORD_LENGTH
    assert NewUser.model_fields["password"].metadata[0].min_length == MIN_PASSWORD_LENGTH  # one rule


# --- files readable by their owner only; the JWT key outside the database ----------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _files(db: Path) -> list[Path]:
    return [
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        db.with_name(db.name + ".key"),
    ]


def test_the_database_and_key_files_are_created_0600(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    previous = os.umask(0o022)  # the usual umask, under which a plain open() makes 0644 files
    try:
        with TestClient(create_app(make_settings(db))) as client:
            login(client, "admin", ADMIN_PASSWORD)  # writes: the -wal file is in use
            files = _files(db)
            assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
            key = client.app.state.jwt_key
    finally:
        os.umask(previous)
    assert len(bytes.fromhex(key)) == 32 and (tmp_path / "fresh.db.key").read_text().strip() == key
    for f in _files(db)[:3]:
        if f.exists():
            assert key.encode() not in f.read_bytes()


def test_too_open_files_are_made_private(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "open.db"
    Store(db).close()
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="edgeswarm.service"):
        Store(db).close()
    assert _mode(db) == 0o600
    assert sum("was mode 644" in r.getMessage() for r in caplog.records) == 1


def test_an_old_key_in_the_database_moves_to_the_key_file(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old_key = "ab" * 32
    store = Store(db)
    store.set_setting("jwt_secret", old_key)  # as versions before issue 14 kept it
    store.close()
    with TestClient(create_app(make_settings(db))) as client:
        assert client.app.state.jwt_key == old_key  # earlier tokens stay valid
        assert client.app.state.store.get_setting("jwt_secret") is None
        headers = login(client, "admin", ADMIN_PASSWORD)
    assert (tmp_path / "old.db.key").read_text().strip() == old_key
    assert _mode(tmp_path / "old.db.key") == 0o600
    for f in _files(db)[:3]:
        if f.exists():
            assert old_key.encode() not in f.read_bytes(), f.name
    with TestClient(create_app(make_settings(db))) as client:  # a restart reads the file
        assert client.get("/api/users", headers=headers).status_code == 200


def test_a_configured_key_file_is_used(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "jwt.key"
    key_path.parent.mkdir()
    with TestClient(create_app(make_settings(tmp_path / "k.db", jwt_key_file=key_path))) as client:
        assert key_path.read_text().strip() == client.app.state.jwt_key
    assert not (tmp_path / "k.db.key").exists() and _mode(key_path) == 0o600
