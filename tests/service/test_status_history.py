"""GET /api/status and /api/history follow the seeded swarm epoch by epoch."""

from __future__ import annotations

import edgeswarm as es
import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import SEED


def test_status_before_the_first_epoch_has_counts_and_no_figures(client: TestClient) -> None:
    body = client.get("/api/status").json()
    assert body["epoch"] == 0
    assert body["n_nodes"] == 100
    assert body["byzantine"] == 0 and body["banned"] == 0
    assert body["entropy"] is None and body["regime"] is None
    assert body["running"] is False  # realtime=False: nobody steps but the test
    assert body["seed"] == SEED and body["epoch_ms"] == 500
    assert body["edge"]["loaded"] is True and body["edge"]["devices"]["total"] == 10


def test_status_and_history_match_a_swarm_with_the_same_seed(client: TestClient) -> None:
    swarm_loop = client.app.state.swarm_loop
    for _ in range(5):
        swarm_loop.step()
    reference = es.Swarm(100, seed=SEED, epoch_ms=500)
    rows = [reference.step() for _ in range(5)]

    status = client.get("/api/status").json()
    assert status["epoch"] == 5
    assert status["consensus"] == float(reference.consensus[0])
    assert status["honest_mean"] == rows[-1]["honest_mean"]
    assert status["entropy"] == rows[-1]["entropy"]
    assert status["regime"] == str(rows[-1]["regime"])
    assert status["awake"] == rows[-1]["awake"] and 0 <= status["awake"] <= 100
    assert status["bytes_per_node_day"] == rows[-1]["bytes_per_node_day"]
    assert status["fl_bytes_per_node_day"] == rows[-1]["fl_bytes_per_node_day"]
    assert status["energy_mj"] == rows[-1]["energy_mj"]

    history = client.get("/api/history").json()
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5]
    assert [h["consensus"] for h in history] == [r["consensus"] for r in rows]
    assert [h["drift"] for h in history] == [r["drift"] for r in rows]
    assert client.get("/api/history", params={"limit": 2}).json() == history[-2:]


def test_two_apps_with_the_same_seed_give_the_same_epochs(tmp_path) -> None:
    from edgeswarm.service import create_app

    from tests.service.conftest import make_settings

    histories = []
    for name in ("a", "b"):
        with TestClient(create_app(make_settings(tmp_path / f"{name}.db"))) as client:
            for _ in range(8):
                client.app.state.swarm_loop.step()
            histories.append(client.get("/api/history").json())
    assert histories[0] == histories[1]
    assert len(histories[0]) == 8


def test_history_of_a_kept_run_and_the_runs_list(client: TestClient) -> None:
    swarm_loop = client.app.state.swarm_loop
    for _ in range(3):
        swarm_loop.step()
    runs = client.get("/api/history/runs").json()
    assert [r["run"] for r in runs] == [swarm_loop.run_id]
    assert runs[0]["epochs_kept"] == 3 and runs[0]["last_epoch"] == 3
    assert runs[0]["config"]["seed"] == SEED
    kept = client.get("/api/history", params={"run": swarm_loop.run_id}).json()
    assert kept == client.get("/api/history").json()
    missing = client.get("/api/history", params={"run": swarm_loop.run_id + 1})
    assert missing.status_code == 404


def test_history_every_downsamples_what_is_kept(tmp_path) -> None:
    from edgeswarm.service import create_app

    from tests.service.conftest import make_settings

    with TestClient(create_app(make_settings(tmp_path / "s.db", history_every=3))) as client:
        swarm_loop = client.app.state.swarm_loop
        for _ in range(10):
            swarm_loop.step()
        kept = client.get("/api/history", params={"run": swarm_loop.run_id}).json()
        assert [r["epoch"] for r in kept] == [3, 6, 9]
        assert len(client.get("/api/history").json()) == 10  # memory keeps every epoch


@pytest.mark.parametrize("limit", [0, -1, 100_001, "ten"])
def test_history_limit_out_of_range_is_422_naming_limit(client: TestClient, limit: object) -> None:
    response = client.get("/api/history", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_byzantine_nodes_from_the_settings(tmp_path) -> None:
    from edgeswarm.service import create_app

    from tests.service.conftest import make_settings

    with TestClient(create_app(make_settings(tmp_path / "s.db", byzantine=30))) as client:
        assert client.get("/api/status").json()["byzantine"] == 30
