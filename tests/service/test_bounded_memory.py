"""What the long-running service holds stays bounded: one copy of the live history, at its bound;
audit bodies held only up to a size; the real-time loop's lateness record."""

from __future__ import annotations

import json
import time
from pathlib import Path

import edgeswarm as es
from edgeswarm.service import create_app
from edgeswarm.service.loop import LATENESS_WINDOW
from fastapi.testclient import TestClient

from tests.service.conftest import make_settings

DEADLINE_S = 30.0


def test_the_live_history_is_held_once_and_at_its_bound(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "h.db", history_memory=20, devices=0)
    with TestClient(create_app(settings)) as client:
        swarm_loop = client.app.state.swarm_loop
        for _ in range(60):
            swarm_loop.step()
        assert len(swarm_loop.history(10_000)) == 20
        assert swarm_loop.swarm.history_limit == 0 and swarm_loop.swarm.history().empty
        rows = client.get("/api/history", params={"limit": 1000}).json()
        assert [row["epoch"] for row in rows] == list(range(41, 61))


def test_the_loop_swarm_gives_the_same_run_as_a_swarm_that_keeps_everything(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "s.db", devices=0)
    with TestClient(create_app(settings)) as client:
        swarm_loop = client.app.state.swarm_loop
        for _ in range(30):
            swarm_loop.step()
        twin = es.Swarm(settings.nodes, seed=settings.seed, epoch_ms=settings.epoch_ms, history=None)
        twin.run(epochs=30)
        assert swarm_loop.swarm.state_hash() == twin.state_hash()


def test_a_huge_request_body_is_audited_by_its_size_only(tmp_path: Path) -> None:
    # An anonymous cap above the body's size, so it reaches the audit (by default it is refused with 413 first).
    settings = make_settings(tmp_path / "a.db", devices=0, max_anonymous_body_bytes=256 * 1024)
    with TestClient(create_app(settings)) as client:
        body = json.dumps({"intensity": 0.1, "duration_sec": 5, "pad": "x" * 200_000})
        client.post("/api/inject_noise", content=body, headers={"Content-Type": "application/json"})
        (entry,) = client.app.state.store.audit(limit=1)
        assert entry["path"] == "/api/inject_noise" and entry["outcome"] == 401
        assert entry["what"] == f"<{len(body)} bytes, not summarised>"


def test_the_real_time_loop_records_each_epochs_lateness_in_a_bounded_window(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "l.db", realtime=True, epoch_ms=10, devices=0)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + DEADLINE_S
        lateness = client.get("/api/status").json()["loop"]["lateness_ms"]
        while lateness["epochs"] < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
            lateness = client.get("/api/status").json()["loop"]["lateness_ms"]
        assert lateness["epochs"] >= 5
        assert lateness["p50"] <= lateness["p99"] <= lateness["max"]
        swarm_loop = client.app.state.swarm_loop
        assert len(swarm_loop.lateness_ms()) >= lateness["epochs"]
        assert swarm_loop._lateness_ms.maxlen == LATENESS_WINDOW  # kept for the last window only


def test_a_stepped_loop_reports_no_lateness(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "n.db", devices=0))) as client:
        client.app.state.swarm_loop.step()
        lateness = client.get("/api/status").json()["loop"]["lateness_ms"]
        assert lateness == {"epochs": 0, "last": None, "p50": None, "p99": None, "max": None}
