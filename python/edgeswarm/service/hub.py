"""WebSocket fan-out: every message goes to every connected client without waiting for any.

Each client has a bounded queue; a client too slow to drain it loses messages (counted),
so one stuck browser never holds up the epoch loop or the other clients. A message is
serialised to JSON once, whatever the number of clients.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from edgeswarm._json import json_safe


class Subscription:
    """One client's queue of JSON texts."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    async def get(self) -> str:
        return await self.queue.get()


class Hub:
    """Publishes JSON messages to every subscribed WebSocket client."""

    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0
        self.dropped = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Ties the hub to the server's event loop (done by the app's lifespan)."""
        self._loop = loop

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self.queue_size)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def _deliver(self, text: str) -> None:
        self.published += 1
        for subscription in tuple(self._subscribers):
            try:
                subscription.queue.put_nowait(text)
            except asyncio.QueueFull:
                subscription.dropped += 1
                self.dropped += 1

    async def publish(self, message: dict[str, Any]) -> None:
        """Queues `message` for every client; never waits for a client. Call from the event loop."""
        self._deliver(json.dumps(json_safe(message)))

    def publish_threadsafe(self, message: dict[str, Any]) -> None:
        """Like `publish`, from any thread (the epoch loop's worker, a test)."""
        text = json.dumps(json_safe(message))
        if self._loop is None or self._loop.is_closed():
            return  # no server loop: nobody can be listening
        self._loop.call_soon_threadsafe(self._deliver, text)

    def stats(self) -> dict[str, int]:
        return {"clients": self.clients, "published": self.published, "dropped": self.dropped}
