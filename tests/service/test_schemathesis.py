"""Schemathesis against the app's own OpenAPI schema: no generated request gets a 5xx.

Both valid requests (positive) and schema-violating ones (negative) for every operation,
sent as admin so the mutating endpoints run too; bounded and derandomized.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import hypothesis
import pytest
import schemathesis
from edgeswarm.service import auth, create_app
from fastapi.testclient import TestClient
from schemathesis import GenerationMode

from tests.service.conftest import make_settings, token_headers

EXAMPLES = 40  # per operation and mode
SCHEMA = schemathesis.openapi.from_dict(create_app(make_settings(Path("unused.db"))).openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def _has_inputs(operation: Any) -> bool:
    return bool(operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"))


CASES = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode.value}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _has_inputs(operation)
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(tmp_path_factory.mktemp("fuzz") / "service.db")
    with pytest.MonkeyPatch.context() as patch:
        # Cheap scrypt while fuzzing: every generated login and new user hashes a password.
        patch.setitem(auth._SCRYPT, "n", 2**8)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            for _ in range(3):
                client.app.state.swarm_loop.step()
            yield client, token_headers(client, "admin", "admin")


def _request_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests-style keyword arguments from Schemathesis as the TestClient takes them."""
    out = {key: kwargs[key] for key in ("method", "url", "headers", "params", "cookies") if kwargs.get(key)}
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif isinstance(data, dict):  # a form: nested values sent as their text, as a browser would
        out["content"] = urlencode(
            {k: v if isinstance(v, (str, int, float)) else str(v) for k, v in data.items()}
        )
    return out


def test_every_operation_is_fuzzed() -> None:
    labels = {operation.label for operation in OPERATIONS}
    assert {
        "GET /api/status",
        "POST /api/inject_byzantine",
        "POST /api/inject_noise",
        "POST /api/users",
    } <= labels


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_no_server_error(
    served: tuple[TestClient, dict[str, str]], operation: Any, mode: GenerationMode
) -> None:
    client, admin = served

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        kwargs = _request_kwargs(case.as_transport_kwargs(base_url="http://testserver", headers=admin))
        response = client.request(**kwargs)
        assert response.status_code < 500, f"{kwargs} -> {response.status_code} {response.text[:300]}"

    check()
