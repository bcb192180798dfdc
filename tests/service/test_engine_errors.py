"""Every range error the engine raises for an argument the API passes it reaches the client as a 422
carrying the engine's own message, and the Python facade raises the same message.

The cases enumerate the engine's checks on the injection arguments (cpp/src/swarm/swarm.cpp
Swarm::inject_noise, byzantine_count_error; cpp/src/swarm/attacks.cpp validate and parse_attack; the
count conversion in cpp/bindings/bind_swarm.cpp). The expected message is taken from the engine
itself (`_core.Swarm`, no facade in between), so the test follows the engine's wording.
"""

from __future__ import annotations

import json
import math
from typing import Any

import edgeswarm as es
import pytest
from edgeswarm import _core
from edgeswarm.service.routes.swarm import NOISE_FIELDS, ByzantineRequest, NoiseRequest
from fastapi.testclient import TestClient

from tests.service.conftest import SEED

N_NODES = 100  # the test app's swarm (make_settings)
Q16_MAX_REAL = _core.Q16_MAX / _core.Q16_ONE
Q16_MIN_REAL = _core.Q16_MIN / _core.Q16_ONE

# (engine parameter, body, description): one case per engine check, at and beyond each bound.
BYZANTINE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("count", {"count": N_NODES + 1}, "more than the honest nodes left"),
    ("count", {"count": 10**30}, "beyond any std::size_t"),
    ("count", {"count": -1}, "negative"),
    ("count", {"count": -(10**30)}, "negative beyond int64"),
    ("attack", {"count": 1, "attack": "meteor"}, "unknown attack"),
    ("attack", {"count": 1, "attack": ""}, "empty attack name"),
    ("bias", {"count": 1, "bias": math.nan}, "NaN"),
    ("bias", {"count": 1, "bias": math.inf}, "infinite"),
    ("bias", {"count": 1, "bias": -math.inf}, "minus infinite"),
    ("bias", {"count": 1, "bias": 32768.0}, "just above the Q16.16 range"),
    ("bias", {"count": 1, "bias": -32768.0001}, "just below the Q16.16 range"),
    ("bias", {"count": 1, "bias": 1e308}, "far above"),
]
NOISE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("intensity", {"intensity": -0.1, "duration_sec": 10}, "negative sd"),
    ("intensity", {"intensity": math.nan, "duration_sec": 10}, "NaN sd"),
    ("intensity", {"intensity": math.inf, "duration_sec": 10}, "infinite sd"),
    ("intensity", {"intensity": 32768.0, "duration_sec": 10}, "sd beyond Q16.16"),
    ("duration_s", {"intensity": 0.1, "duration_sec": -5}, "negative duration"),
    ("duration_s", {"intensity": 0.1, "duration_sec": math.nan}, "NaN duration"),
    ("duration_s", {"intensity": 0.1, "duration_sec": math.inf}, "infinite duration"),
    ("duration_s", {"intensity": 0.1, "duration_sec": 1e300}, "beyond 2^62 epochs"),
]


def _engine() -> Any:
    config = _core.SwarmConfig()
    config.n_nodes, config.seed, config.epoch_ms = N_NODES, SEED, 500
    return _core.Swarm(config)


def _engine_message(call: Any) -> str:
    with pytest.raises(ValueError) as caught:
        call()
    return str(caught.value)


def _not_json(body: dict[str, Any]) -> bool:
    """Whether json.dumps writes the body with NaN or Infinity, JavaScript literals that JSON does not have:
    the API refuses those before any handler (a 422 from the request limits), so the engine never sees them."""
    return any(isinstance(v, float) and not math.isfinite(v) for v in body.values())


def _post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(
        path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"}
    )


def _byzantine_args(body: dict[str, Any]) -> dict[str, Any]:
    return {"count": body["count"], "bias": body.get("bias", 0.9), "attack": body.get("attack", "bias")}


def _noise_args(body: dict[str, Any]) -> dict[str, Any]:
    return {"intensity": body["intensity"], "duration_s": body["duration_sec"]}


@pytest.mark.parametrize(
    ("parameter", "body"), [c[:2] for c in BYZANTINE_CASES], ids=[c[2] for c in BYZANTINE_CASES]
)
def test_byzantine_range_errors_are_the_engines_422(
    client: TestClient, operator: dict, parameter: str, body: dict[str, Any]
) -> None:
    args = _byzantine_args(body)
    message = _engine_message(
        lambda: _engine().inject_byzantine(args["count"], attack=args["attack"], bias=args["bias"])
    )
    assert message.startswith(f"{parameter}: "), message
    response = _post(client, "/api/inject_byzantine", body, operator)
    assert response.status_code == 422, response.text
    if _not_json(body):
        assert "which JSON does not have" in response.json()["detail"], response.text
        return
    assert response.json()["detail"] == [{"loc": ["body", parameter], "msg": message, "type": "value_error"}]
    with pytest.raises(ValueError) as facade:
        es.Swarm(N_NODES, seed=SEED).inject_byzantine(**args)
    assert str(facade.value) == message
    assert client.get("/api/status").json()["byzantine"] == 0  # the refused injection changed nothing


@pytest.mark.parametrize(("parameter", "body"), [c[:2] for c in NOISE_CASES], ids=[c[2] for c in NOISE_CASES])
def test_noise_range_errors_are_the_engines_422(
    client: TestClient, operator: dict, parameter: str, body: dict[str, Any]
) -> None:
    args = _noise_args(body)
    message = _engine_message(lambda: _engine().inject_noise(args["intensity"], args["duration_s"]))
    assert message.startswith(f"{parameter}: "), message
    response = _post(client, "/api/inject_noise", body, operator)
    assert response.status_code == 422, response.text
    if _not_json(body):
        assert "which JSON does not have" in response.json()["detail"], response.text
        return
    field = NOISE_FIELDS.get(parameter, parameter)  # duration_s is the body's duration_sec
    assert response.json()["detail"] == [{"loc": ["body", field], "msg": message, "type": "value_error"}]
    with pytest.raises(ValueError) as facade:
        es.Swarm(N_NODES, seed=SEED).inject_noise(**args)
    assert str(facade.value) == message


def test_the_count_error_counts_earlier_injections(client: TestClient, operator: dict) -> None:
    engine = _engine()
    engine.inject_byzantine(60)
    message = _engine_message(lambda: engine.inject_byzantine(41))
    assert message == "count: 41 exceeds the 40 honest nodes left"
    assert _post(client, "/api/inject_byzantine", {"count": 60}, operator).status_code == 200
    response = _post(client, "/api/inject_byzantine", {"count": 41}, operator)
    assert response.json()["detail"][0]["msg"] == message


def test_the_bounds_themselves_are_accepted(client: TestClient, operator: dict) -> None:
    for bias in (Q16_MIN_REAL, Q16_MAX_REAL):
        response = _post(client, "/api/inject_byzantine", {"count": 1, "bias": bias}, operator)
        assert response.status_code == 200, response.text
    for body in ({"intensity": 0.0, "duration_sec": 0}, {"intensity": Q16_MAX_REAL, "duration_sec": 1}):
        assert _post(client, "/api/inject_noise", body, operator).status_code == 200


def test_every_request_field_has_its_engine_cases() -> None:
    # A new request field must come with the engine's checks on it here.
    byzantine = {parameter for parameter, _, _ in BYZANTINE_CASES}
    noise = {NOISE_FIELDS.get(parameter, parameter) for parameter, _, _ in NOISE_CASES}
    assert byzantine == set(ByzantineRequest.model_fields)
    assert noise == set(NoiseRequest.model_fields)
