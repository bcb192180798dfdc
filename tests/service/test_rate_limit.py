"""Rate limits per address: anonymous writes and failed requests answered 429 with Retry-After, on an
injected clock (no sleeping); reads by anonymous viewers and requests with a token go through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from edgeswarm.service import create_app
from edgeswarm.service.rate_limit import RateLimiter
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings, token_headers

NOISE = ("/api/inject_noise", {"intensity": 0.1, "duration_sec": 1})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "rl.db",
        devices=0,
        rate_limit_anonymous_writes=5,
        rate_limit_failures=3,
        rate_limit_window_s=10,
    )
    app = create_app(settings)
    app.state.rate_limiter = RateLimiter(settings, clock=clock)
    with TestClient(app) as client:
        yield client


def _anonymous_write(client: TestClient) -> int:
    # A write without a token that does not fail with 401/403: 405, no route takes it.
    return client.post("/api/nothing-here", json={}).status_code


def test_anonymous_writes_are_limited_per_window(limited: TestClient, clock: Clock) -> None:
    codes = []
    for _ in range(5):  # at t = 1000, 1001, ..., 1004
        codes.append(_anonymous_write(limited))
        clock.now += 1
    assert codes == [405] * 5
    refused = limited.post("/api/nothing-here", json={})  # t = 1005
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert "at most 5 per 10 s" in refused.json()["detail"]
    clock.now += 4.2
    assert limited.post("/api/nothing-here", json={}).headers["retry-after"] == "1"  # ceil(0.8)
    clock.now += 0.8  # t = 1010: the first write leaves the window
    assert _anonymous_write(limited) == 405
    assert _anonymous_write(limited) == 429


def test_failures_are_limited_and_refused_requests_do_not_count(limited: TestClient, clock: Clock) -> None:
    assert [limited.post(NOISE[0], json=NOISE[1]).status_code for _ in range(3)] == [401] * 3
    refused = limited.get("/api/users")  # anonymous, even a read: the address is over its failures
    assert refused.status_code == 429 and "failed requests" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    for _ in range(50):  # a flood of refused requests does not extend the lock
        assert limited.post(NOISE[0], json=NOISE[1]).status_code == 429
    clock.now += 10
    assert limited.post(NOISE[0], json=NOISE[1]).status_code == 401


def test_refused_requests_are_not_audited(limited: TestClient) -> None:
    for _ in range(20):
        limited.post(NOISE[0], json=NOISE[1])
    store = limited.app.state.store
    # The three 401s (one aggregated row); the 429s never reached the audit.
    assert [(e["outcome"], e["count"]) for e in store.audit(limit=100)] == [(401, 3)]
    assert limited.app.state.rate_limiter.refused == 17


def test_reads_and_token_holders_are_not_limited(limited: TestClient) -> None:
    for _ in range(50):
        assert limited.get("/api/status").status_code == 200  # the dashboard's reads
    operator = token_headers(limited, "olivia", "operator")
    for _ in range(20):
        assert limited.post(NOISE[0], json=NOISE[1], headers=operator).status_code == 200
    for _ in range(3):
        limited.post(NOISE[0], json=NOISE[1])  # three 401: the address is over its failures now
    assert limited.post(NOISE[0], json=NOISE[1]).status_code == 429
    assert limited.get("/api/status").status_code == 429  # anonymous
    assert limited.get("/api/status", headers=operator).status_code == 200  # a read with a token


def test_the_defaults_leave_room_for_the_dashboard(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d.db", devices=0)
    assert (settings.rate_limit_anonymous_writes, settings.rate_limit_failures) == (60, 30)
    assert settings.rate_limit_window_s == 60
    with TestClient(create_app(settings)) as client:
        for _ in range(200):
            assert client.get("/api/status").status_code == 200
