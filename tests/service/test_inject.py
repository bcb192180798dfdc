"""POST /api/inject_byzantine and /api/inject_noise: effects, and 422s that name the field."""

from __future__ import annotations

import edgeswarm as es
import pytest
from fastapi.testclient import TestClient


def test_inject_byzantine_turns_nodes_and_the_swarm_bans_them(client: TestClient, operator: dict) -> None:
    response = client.post(
        "/api/inject_byzantine", json={"count": 30, "bias": 0.9, "attack": "bias"}, headers=operator
    )
    assert response.status_code == 200
    body = response.json()
    assert body["injected"] == {"count": 30, "bias": 0.9, "attack": "bias"}
    assert body["by"] == "olivia"
    assert body["status"]["byzantine"] == 30 and body["status"]["n_nodes"] - body["status"]["byzantine"] == 70
    swarm_loop = client.app.state.swarm_loop
    for _ in range(40):
        swarm_loop.step()
    status = client.get("/api/status").json()
    assert status["banned"] >= 25  # reputation catches the coordinated attackers
    assert status["drift"] < 0.05


def test_inject_byzantine_defaults_to_the_bias_attack(client: TestClient, operator: dict) -> None:
    response = client.post("/api/inject_byzantine", json={"count": 3}, headers=operator)
    assert response.status_code == 200
    assert response.json()["injected"] == {"count": 3, "bias": 0.9, "attack": "bias"}


@pytest.mark.parametrize("attack", es.ATTACKS)
def test_every_attack_is_accepted(client: TestClient, operator: dict, attack: str) -> None:
    response = client.post("/api/inject_byzantine", json={"count": 2, "attack": attack}, headers=operator)
    assert response.status_code == 200, response.text
    client.app.state.swarm_loop.step()


def test_inject_noise_raises_the_entropy(client: TestClient, operator: dict) -> None:
    swarm_loop = client.app.state.swarm_loop
    for _ in range(10):
        swarm_loop.step()
    calm = client.get("/api/status").json()["entropy"]
    response = client.post("/api/inject_noise", json={"intensity": 0.5, "duration_sec": 30}, headers=operator)
    assert response.status_code == 200
    for _ in range(5):
        swarm_loop.step()
    status = client.get("/api/status").json()
    assert status["noise_intensity"] == 0.5
    assert status["entropy"] > calm


def _loc_and_msg(response) -> list[tuple[list, str]]:
    assert response.status_code == 422, response.text
    return [(e["loc"], e["msg"]) for e in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"count": 101}, "count", "honest nodes"),
        ({"count": 10**30}, "count", "honest nodes"),
        ({"count": -1}, "count", "allowed [0, 100] (the honest nodes left)"),
        ({"count": 1.5}, "count", "integer"),
        ({"count": "3"}, "count", "integer"),
        ({"count": True}, "count", "integer"),
        ({"count": None}, "count", "integer"),
        ({}, "count", "required"),
        ({"count": 1, "attack": "meteor"}, "attack", "bias"),
        ({"count": 1, "attack": 3}, "attack", "valid string"),
        ({"count": 1, "bias": "high"}, "bias", "number"),
        ({"count": 1, "bias": 1e308}, "bias", "the Q16.16 range"),
        ({"count": 1, "bias": -1e308}, "bias", "the Q16.16 range"),
        ({"count": 1, "bias": 0.9, "jitter": 1}, "jitter", "not permitted"),
    ],
)
def test_bad_byzantine_requests_are_422_naming_the_field(
    client: TestClient, operator: dict, body: dict, field: str, rule: str
) -> None:
    errors = _loc_and_msg(client.post("/api/inject_byzantine", json=body, headers=operator))
    assert any(loc[-1] == field and rule in msg for loc, msg in errors), errors
    assert client.get("/api/status").json()["byzantine"] == 0


def test_count_above_the_honest_nodes_left_counts_earlier_injections(
    client: TestClient, operator: dict
) -> None:
    assert client.post("/api/inject_byzantine", json={"count": 60}, headers=operator).status_code == 200
    errors = _loc_and_msg(client.post("/api/inject_byzantine", json={"count": 41}, headers=operator))
    assert errors == [(["body", "count"], "count: 41 exceeds the 40 honest nodes left")]
    assert client.post("/api/inject_byzantine", json={"count": 40}, headers=operator).status_code == 200


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"intensity": -0.1, "duration_sec": 10}, "intensity", "allowed finite values in [0, "),
        ({"intensity": 1e9, "duration_sec": 10}, "intensity", "the Q16.16 range"),
        ({"intensity": 0.1, "duration_sec": -5}, "duration_sec", "duration_s: -5 is out of range"),
        ({"intensity": 0.1, "duration_sec": 1e300}, "duration_sec", "2^62 epochs of 500 ms"),
        ({"intensity": "loud", "duration_sec": 10}, "intensity", "number"),
        ({"intensity": [0.1], "duration_sec": 10}, "intensity", "number"),
        ({"duration_sec": 10}, "intensity", "required"),
        ({"intensity": 0.1}, "duration_sec", "required"),
        ({"intensity": 0.1, "duration_s": 10}, "duration_sec", "required"),
    ],
)
def test_bad_noise_requests_are_422_naming_the_field(
    client: TestClient, operator: dict, body: dict, field: str, rule: str
) -> None:
    errors = _loc_and_msg(client.post("/api/inject_noise", json=body, headers=operator))
    assert any(loc[-1] == field and rule in msg for loc, msg in errors), errors


def test_a_zero_duration_ends_a_noise_storm(client: TestClient, operator: dict) -> None:
    # The engine allows duration 0 (it ends the storm in progress); the API used to refuse it.
    swarm_loop = client.app.state.swarm_loop
    assert client.post(
        "/api/inject_noise", json={"intensity": 0.5, "duration_sec": 60}, headers=operator
    ).is_success
    swarm_loop.step()
    assert client.get("/api/status").json()["noise_intensity"] == 0.5
    response = client.post("/api/inject_noise", json={"intensity": 0.5, "duration_sec": 0}, headers=operator)
    assert response.status_code == 200
    swarm_loop.step()
    assert client.get("/api/status").json()["noise_intensity"] == 0.0


@pytest.mark.parametrize(
    "raw", [b"NaN", b'{"intensity": NaN, "duration_sec": 1}', b'{"intensity": Infinity, "duration_sec": 1}']
)
def test_non_finite_numbers_are_422(client: TestClient, operator: dict, raw: bytes) -> None:
    headers = {**operator, "Content-Type": "application/json"}
    response = client.post("/api/inject_noise", content=raw, headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"", 422), (b"{", 422), (b"[1, 2]", 422), (b'"text"', 422), (b"\xff\xfe", 415)],  # 415: not UTF-8
)
def test_malformed_bodies_are_4xx_not_500(client: TestClient, admin: dict, raw: bytes, expected: int) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    for path in ("/api/inject_byzantine", "/api/inject_noise", "/api/users"):
        assert client.post(path, content=raw, headers=headers).status_code == expected, (path, raw)
