"""One input policy (issue 14 part A): every request body field is strict, so a string is never taken for a
number (or a number for a string); an int for a float is fine. Query and path parameters are unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from edgeswarm.service.routes.swarm import ByzantineRequest, NoiseRequest
from edgeswarm.service.routes.users import NewUser
from edgeswarm.service.schemas import DeviceCreate, EmergencyRequest, PublishRequest
from fastapi.testclient import TestClient

REFUSED = [
    ("/api/inject_noise", {"intensity": "1", "duration_sec": 1}, "intensity", "float_type"),
    ("/api/inject_noise", {"intensity": 1, "duration_sec": "5"}, "duration_sec", "float_type"),
    ("/api/inject_noise", {"intensity": True, "duration_sec": 5}, "intensity", "float_type"),
    ("/api/inject_byzantine", {"count": "1"}, "count", "int_type"),
    ("/api/inject_byzantine", {"count": 1.0}, "count", "int_type"),
    ("/api/inject_byzantine", {"count": 1, "bias": "0.5"}, "bias", "float_type"),
    ("/api/inject_byzantine", {"count": 1, "attack": 3}, "attack", "string_type"),
    ("/api/users", {"username": 5, "password": "long-enough-1"}, "username", "string_type"),
    (
        "/api/edge/devices",
        {"device_id": "d-1", "sensor": "temperature", "x": "1", "y": 2},
        "x",
        "float_type",
    ),
    (
        "/api/edge/emergency-coordination",
        {"type": "fire", "affected_devices": ["dev-0000"], "cluster_id": "0"},
        "cluster_id",
        "int_type",
    ),
    ("/api/devices/dev-0000/publish", {"message": 42}, "message", "string_type"),
]


@pytest.mark.parametrize(("path", "body", "field", "error"), REFUSED)
def test_a_string_is_never_taken_for_a_number(
    client: TestClient, admin: dict[str, str], path: str, body: dict[str, Any], field: str, error: str
) -> None:
    response = client.post(path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"][:2] == ["body", field] and e["type"].startswith(error) for e in errors), errors


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/api/inject_noise", {"intensity": 1, "duration_sec": 5}, 200),  # ints for floats
        ("/api/inject_byzantine", {"count": 1, "bias": 2}, 200),
        ("/api/edge/devices", {"device_id": "d-2", "sensor": "temperature", "x": 1, "y": 2.5}, 201),
    ],
)
def test_an_int_for_a_float_is_accepted(
    client: TestClient, admin: dict[str, str], path: str, body: dict[str, Any], expected: int
) -> None:
    response = client.post(path, json=body, headers=admin)
    assert response.status_code == expected, response.text


@pytest.mark.parametrize(
    "model", [ByzantineRequest, NoiseRequest, NewUser, DeviceCreate, EmergencyRequest, PublishRequest]
)
def test_every_request_body_model_is_strict(model: type) -> None:
    assert model.model_config.get("strict") is True and model.model_config.get("extra") == "forbid"


def test_query_parameters_still_take_strings(client: TestClient) -> None:
    # A query string is text: it is parsed, then checked (not strict).
    response = client.get("/api/history", params={"limit": "0"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "limit"]
    assert client.get("/api/history", params={"limit": "5"}).status_code == 200
