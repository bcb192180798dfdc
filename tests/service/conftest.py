"""Fixtures: the service built with realtime=False on a temporary database, stepped by the tests."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from edgeswarm.service import Settings, create_app
from edgeswarm.service.auth import User, hash_password, issue_token
from fastapi import FastAPI
from fastapi.testclient import TestClient

ADMIN_PASSWORD = "admin-test-password"
SEED = 7


def make_settings(db_path: Path, **overrides: object) -> Settings:
    """Settings for a test app: everything explicit, so no EDGESWARM_* variable leaks in."""
    values: dict[str, object] = {
        "db_path": db_path,
        "admin_password": ADMIN_PASSWORD,
        "jwt_secret": None,
        "realtime": False,
        "print_epochs": False,
        "nodes": 100,
        "epoch_ms": 500,
        "seed": SEED,
        "byzantine": 0,
        "history_every": 1,
        "static_dir": None,
        "devices": 10,  # a small edge fleet: it ticks with every epoch
        "mqtt": "off",  # the in-process link; tests/service/test_mqtt_serve.py asks for a broker
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],  # testserver: Starlette's TestClient
    }
    for name in (
        "edge_time_scale",
        "edge_fault_rate_per_day",
        "edge_wear_fraction",
        "edge_wear_horizon_days",
        # issue 14's limits and secrets: their defaults, whatever EDGESWARM_* says
        "jwt_key_file",
        "max_body_bytes",
        "max_anonymous_body_bytes",
        "max_json_depth",
        "allowed_origins",
        "rate_limit_anonymous_writes",
        "rate_limit_failures",
        "rate_limit_window_s",
        "audit_max_rows",
        "audit_aggregate_window_s",
    ):
        values[name] = Settings.model_fields[name].get_default(call_default_factory=True)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "service.db")


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # runs the lifespan: store, swarm_loop, hub
        yield test_client


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    """Authorization headers for `username`."""
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def add_user(client: TestClient, admin: dict[str, str], username: str, role: str) -> dict[str, str]:
    """Creates a user with `role` (as admin) and returns their Authorization headers."""
    password = f"{username}-password"
    response = client.post(
        "/api/users", json={"username": username, "password": password, "role": role}, headers=admin
    )
    assert response.status_code == 201, response.text
    return login(client, username, password)


@functools.cache
def _hashed(password: str) -> tuple[bytes, bytes]:
    return hash_password(password)


def token_headers(client: TestClient, username: str, role: str) -> dict[str, str]:
    """Authorization headers for a user put straight into the store (scrypt runs once per session;
    the API's own user and login paths are tested in test_auth_roles)."""
    store = client.app.state.store
    if store.user(username) is None:
        store.add_user(username, role, *_hashed(f"{username}-password"))
    token = issue_token(client.app.state.jwt_key, User(username, role), 60)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return token_headers(client, "admin", "admin")


@pytest.fixture
def operator(client: TestClient) -> dict[str, str]:
    return token_headers(client, "olivia", "operator")


@pytest.fixture
def viewer(client: TestClient) -> dict[str, str]:
    return token_headers(client, "victor", "viewer")
