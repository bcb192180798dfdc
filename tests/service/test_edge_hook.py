"""The hook the edge runtime plugs into: tick per epoch, its messages on /ws, its summary in the status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from edgeswarm.service import app as app_module
from edgeswarm.service import create_app
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.service.conftest import make_settings


class FakeEdge:
    """Stands in for EdgeRuntime(settings, store, hub_publish): records ticks, raises on request."""

    def __init__(self) -> None:
        self.ticks: list[tuple[int, float]] = []
        self.fail = False

    def tick(self, epoch: int, t_s: float) -> list[dict[str, Any]]:
        if self.fail:
            raise RuntimeError("broken sensor model")
        self.ticks.append((epoch, t_s))
        return [
            {"type": "alert", "data": {"device_id": 7, "alert_type": "temperature", "severity": "critical"}}
        ]

    def summary(self) -> dict[str, Any]:
        return {"devices_online": 49, "devices_offline": 1, "ticks": len(self.ticks)}


def test_edge_runtime_is_ticked_and_its_messages_are_broadcast(tmp_path: Path, monkeypatch) -> None:
    edge = FakeEdge()
    built: list[tuple] = []

    def load(settings, store, hub):
        built.append((settings.devices, store, hub.publish))
        return edge

    monkeypatch.setattr(app_module, "load_edge_runtime", load)
    with TestClient(create_app(make_settings(tmp_path / "s.db"))) as client:
        assert client.app.state.edge is edge and built[0][0] == 10
        swarm_loop = client.app.state.swarm_loop
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json()["status"]["edge"] == {
                "loaded": True,
                "devices_online": 49,
                "devices_offline": 1,
                "ticks": 0,
            }
            swarm_loop.step()
            kinds = [ws.receive_json() for _ in range(3)]
        assert [m["type"] for m in kinds] == ["epoch", "alert", "edge"]
        assert kinds[1]["data"]["device_id"] == 7
        assert kinds[2]["data"]["ticks"] == 1
        assert edge.ticks == [(1, 0.5)]

        edge.fail = True  # a failing edge runtime does not stop the swarm
        swarm_loop.step()
        status = client.get("/api/status").json()
        assert status["epoch"] == 2 and status["loop"]["edge_errors"] == 1


def test_byzantine_setting_above_the_nodes_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="byzantine: 101 exceeds the 100 nodes"):
        make_settings(tmp_path / "s.db", byzantine=101)


def test_an_edge_runtime_that_cannot_start_leaves_the_swarm_served(tmp_path: Path, monkeypatch) -> None:
    def load(*_args):
        raise RuntimeError("no fleet today")

    monkeypatch.setattr(app_module, "load_edge_runtime", load)
    with TestClient(create_app(make_settings(tmp_path / "s.db"))) as client:
        client.app.state.swarm_loop.step()
        status = client.get("/api/status").json()
        assert status["epoch"] == 1
        assert status["edge"] == {"loaded": False, "error": "RuntimeError: no fleet today"}
