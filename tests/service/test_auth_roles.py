"""Tokens and roles: 401 without a token, 403 with a role too low, 200 with the right one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest
from edgeswarm.service import auth
from edgeswarm.service.auth import USER_ROLES, User
from edgeswarm.service.deps import require_role
from fastapi.testclient import TestClient

from tests.service.conftest import ADMIN_PASSWORD, login

BYZANTINE = ("/api/inject_byzantine", {"count": 5, "bias": 0.9})
NOISE = ("/api/inject_noise", {"intensity": 0.2, "duration_sec": 10})
NEW_USER = ("/api/users", {"username": "newbie", "password": "long-enough", "role": "viewer"})


def test_token_answers_role_and_bearer_type(client: TestClient) -> None:
    response = client.post("/api/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "admin"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "admin" and claims["role"] == "admin"


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong-password"), ("nobody", ADMIN_PASSWORD), ("admin", "x")]
)
def test_wrong_credentials_are_401(client: TestClient, username: str, password: str) -> None:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in response.json()


def test_token_form_fields_are_required(client: TestClient) -> None:
    response = client.post("/api/auth/token", data={"username": "admin"})
    assert response.status_code == 422
    assert ["body", "password"] in [e["loc"] for e in response.json()["detail"]]


@pytest.mark.parametrize(("path", "body"), [BYZANTINE, NOISE, NEW_USER])
def test_mutating_without_a_token_is_401(client: TestClient, path: str, body: dict) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/users", "/api/audit"])
def test_admin_reads_without_a_token_are_401(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401


def test_bad_and_expired_tokens_are_401(client: TestClient) -> None:
    assert (
        client.post(BYZANTINE[0], json=BYZANTINE[1], headers={"Authorization": "Bearer junk"}).status_code
        == 401
    )
    key = client.app.state.jwt_key
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    expired = jwt.encode({"sub": "admin", "role": "admin", "gen": 0, "exp": past}, key, algorithm="HS256")
    response = client.post(BYZANTINE[0], json=BYZANTINE[1], headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    forged = jwt.encode(
        {"sub": "admin", "role": "admin", "gen": 0, "exp": past + timedelta(hours=1)},
        "not-the-key-but-32-bytes-or-longer!",
        algorithm="HS256",
    )
    response = client.post(BYZANTINE[0], json=BYZANTINE[1], headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_a_token_of_an_unknown_user_is_401(client: TestClient) -> None:
    key = client.app.state.jwt_key
    token = jwt.encode(
        {"sub": "ghost", "role": "admin", "gen": 0, "exp": datetime.now(timezone.utc) + timedelta(minutes=5)},
        key,
        algorithm="HS256",
    )
    response = client.get("/api/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize(("path", "body"), [BYZANTINE, NOISE])
def test_viewer_may_not_inject(client: TestClient, viewer: dict, path: str, body: dict) -> None:
    response = client.post(path, json=body, headers=viewer)
    assert response.status_code == 403
    assert "operator" in response.json()["detail"]


@pytest.mark.parametrize(("path", "body"), [BYZANTINE, NOISE])
def test_operator_and_admin_may_inject(
    client: TestClient, operator: dict, admin: dict, path: str, body: dict
) -> None:
    assert client.post(path, json=body, headers=operator).status_code == 200
    assert client.post(path, json=body, headers=admin).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admin_manages_users_and_reads_the_audit(client: TestClient, admin: dict, role: str) -> None:
    from tests.service.conftest import add_user

    headers = add_user(client, admin, f"user_{role}", role)
    assert client.get("/api/users", headers=headers).status_code == 403
    assert client.post(NEW_USER[0], json=NEW_USER[1], headers=headers).status_code == 403
    assert client.get("/api/audit", headers=headers).status_code == 403
    assert client.get("/api/users", headers=admin).status_code == 200
    assert client.get("/api/audit", headers=admin).status_code == 200


def test_reads_are_open(client: TestClient) -> None:
    for path in ("/api/status", "/api/history", "/api/history/runs", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path


def test_a_created_user_logs_in_with_their_role(client: TestClient, admin: dict) -> None:
    response = client.post(
        "/api/users", json={"username": "ops", "password": "ops-password", "role": "operator"}, headers=admin
    )
    assert response.status_code == 201
    assert response.json()["role"] == "operator"
    token = client.post("/api/auth/token", data={"username": "ops", "password": "ops-password"}).json()
    assert token["role"] == "operator"
    listed = client.get("/api/users", headers=admin).json()
    assert {u["username"]: u["role"] for u in listed} == {"admin": "admin", "ops": "operator"}
    assert all("password" not in key for u in listed for key in u)


def test_a_taken_username_is_409(client: TestClient, admin: dict) -> None:
    body = {"username": "dup", "password": "dup-password", "role": "viewer"}
    assert client.post("/api/users", json=body, headers=admin).status_code == 201
    response = client.post("/api/users", json=body, headers=admin)
    assert response.status_code == 409
    assert "dup" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "x y", "password": "long-enough", "role": "viewer"}, "username"),
        ({"username": "", "password": "long-enough", "role": "viewer"}, "username"),
        ({"username": "short", "password": "short", "role": "viewer"}, "password"),
        ({"username": "king", "password": "long-enough", "role": "king"}, "role"),
        ({"password": "long-enough", "role": "viewer"}, "username"),
        ({"username": "u", "password": "long-enough", "role": "viewer", "extra": 1}, "extra"),
    ],
)
def test_bad_new_users_are_422_naming_the_field(
    client: TestClient, admin: dict, body: dict, field: str
) -> None:
    response = client.post("/api/users", json=body, headers=admin)
    assert response.status_code == 422
    assert ["body", field] in [e["loc"] for e in response.json()["detail"]]


def test_generated_admin_password_is_printed_once(tmp_path, capsys) -> None:
    from edgeswarm.service import create_app

    from tests.service.conftest import make_settings

    settings = make_settings(tmp_path / "fresh.db", admin_password=None)
    with TestClient(create_app(settings)) as client:
        printed = capsys.readouterr().err
        assert "created user 'admin' with password" in printed
        password = printed.split("with password ", 1)[1].split()[0]
        login(client, "admin", password)
    with TestClient(create_app(settings)) as client:
        assert "password" not in capsys.readouterr().err  # not again on the next start
        login(client, "admin", password)  # and it still works


def test_admin_password_from_the_settings_is_applied_at_start(tmp_path) -> None:
    from edgeswarm.service import create_app

    from tests.service.conftest import make_settings

    db = tmp_path / "s.db"
    with TestClient(create_app(make_settings(db, admin_password="first-password"))) as client:
        login(client, "admin", "first-password")
    with TestClient(create_app(make_settings(db, admin_password="second-password"))) as client:
        login(client, "admin", "second-password")
        response = client.post("/api/auth/token", data={"username": "admin", "password": "first-password"})
        assert response.status_code == 401


def test_user_roles_are_ordered_and_named_apart_from_raft_and_sleep_roles() -> None:
    assert USER_ROLES == ("viewer", "operator", "admin")
    assert not hasattr(auth, "ROLES")  # ROLES names the Raft roles and the sleep-schedule roles
    operator = User("olivia", "operator")
    assert operator.has("viewer") and operator.has("operator") and not operator.has("admin")
    with pytest.raises(ValueError, match="role: 'root' is not one of viewer, operator, admin"):
        require_role("root")
