"""WS /ws: a hello with status and history, then one message per epoch with the node states."""

from __future__ import annotations

import asyncio
import json

from edgeswarm.service.hub import Hub
from fastapi.testclient import TestClient


def next_epoch(ws) -> dict:
    """The next 'epoch' message (the edge runtime's alert/emergency/edge messages are skipped)."""
    while True:
        message = ws.receive_json()
        if message["type"] == "epoch":
            return message


def test_hello_then_one_epoch_message_per_step(client: TestClient, operator: dict) -> None:
    swarm_loop = client.app.state.swarm_loop
    for _ in range(3):
        swarm_loop.step()
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        assert hello["status"]["epoch"] == 3
        assert [row["epoch"] for row in hello["history"]] == [1, 2, 3]
        assert hello["history"] == client.get("/api/history").json()

        client.post("/api/inject_byzantine", json={"count": 10}, headers=operator)
        swarm_loop.step()
        message = next_epoch(ws)
        assert message["type"] == "epoch"
        assert message["data"]["epoch"] == 4
        assert message["data"] == client.get("/api/history", params={"limit": 1}).json()[0]
        states = message["nodes"]["state"]
        assert len(states) == 100 and set(states) <= {0, 1, 2, 3}
        assert sum(s in (1, 3) for s in states) >= 10  # the injected nodes: byzantine, or banned already

        swarm_loop.step()
        assert next_epoch(ws)["data"]["epoch"] == 5


def test_two_clients_get_the_same_epochs(client: TestClient) -> None:
    swarm_loop = client.app.state.swarm_loop
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        assert a.receive_json()["type"] == b.receive_json()["type"] == "hello"
        assert client.get("/api/status").json()["ws"]["clients"] == 2
        swarm_loop.step()
        swarm_loop.step()
        got_a = [next_epoch(a)["data"]["epoch"] for _ in range(2)]
        got_b = [next_epoch(b)["data"]["epoch"] for _ in range(2)]
        assert got_a == got_b == [1, 2]
    assert client.get("/api/status").json()["ws"]["clients"] == 0


def test_hello_history_is_at_most_300_epochs(client: TestClient) -> None:
    swarm_loop = client.app.state.swarm_loop
    for _ in range(305):
        swarm_loop.step()
    with client.websocket_connect("/ws") as ws:
        history = ws.receive_json()["history"]
    assert len(history) == 300 and history[-1]["epoch"] == 305


def test_a_slow_client_loses_messages_without_blocking_others() -> None:
    asyncio.run(_slow_client())


async def _slow_client() -> None:
    hub = Hub(queue_size=4)
    hub.bind(asyncio.get_running_loop())
    slow, fast = hub.subscribe(), hub.subscribe()
    received = []
    for i in range(10):
        await hub.publish({"type": "epoch", "data": {"epoch": i}})
        received.append(await fast.get())  # the fast client drains as it goes
    assert len(received) == 10
    assert slow.queue.qsize() == 4 and slow.dropped == 6
    assert hub.stats() == {"clients": 2, "published": 10, "dropped": 6}


def test_publish_threadsafe_delivers_from_another_thread_and_nan_becomes_null() -> None:
    asyncio.run(_threadsafe())


async def _threadsafe() -> None:
    hub = Hub()
    hub.bind(asyncio.get_running_loop())
    sub = hub.subscribe()
    await asyncio.to_thread(hub.publish_threadsafe, {"type": "epoch", "data": {"drift": float("nan")}})
    text = await asyncio.wait_for(sub.get(), timeout=10)
    assert json.loads(text) == {"type": "epoch", "data": {"drift": None}}
