"""A device's bounded buffer of the messages it produced while disconnected.

While a device agent is not connected (failed, or reconnecting after a broker outage) its
heartbeats and telemetry go to an :class:`OfflineBuffer` instead of the network; on reconnect it
flushes them, oldest first. The buffer holds at most ``capacity`` messages (default 1,000, as in
issue 10): when it is full the oldest message is dropped to make room and counted, so a long outage
keeps the newest data, which is what a monitoring system wants first.

One ``collections.deque(maxlen=capacity)`` per device: O(1) push and pop, about 8 bytes per slot
plus the messages themselves, so thousands of devices in one process cost little. Counters
satisfy ``pushed == len(buffer) + dropped + flushed`` at every moment.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from edgeswarm._validate import require_int

__all__ = ["DEFAULT_CAPACITY", "OfflineBuffer"]

#: Messages kept per device while offline, unless told otherwise.
DEFAULT_CAPACITY: int = 1000


class OfflineBuffer:
    """Up to ``capacity`` messages (any objects), oldest dropped first when full."""

    __slots__ = ("_messages", "capacity", "dropped", "flushed", "pushed")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        #: Most messages held at once; 0 keeps nothing (every message is dropped and counted).
        self.capacity: int = require_int("capacity", capacity, minimum=0)
        self._messages: deque[Any] = deque(maxlen=self.capacity)
        #: Messages ever pushed, dropped to make room (or for want of any), and handed out by flush.
        self.pushed = 0
        self.dropped = 0
        self.flushed = 0

    def __len__(self) -> int:
        return len(self._messages)

    def __bool__(self) -> bool:
        return bool(self._messages)

    @property
    def utilisation(self) -> float:
        """Fill level len / capacity in [0, 1] (1.0 for a zero-capacity buffer: it is always full)."""
        return len(self._messages) / self.capacity if self.capacity else 1.0

    def push(self, message: Any) -> bool:
        """Buffers ``message``; returns True when a message was dropped for it (the oldest one, or
        ``message`` itself when the capacity is 0)."""
        self.pushed += 1
        full = len(self._messages) == self.capacity
        if full:
            self.dropped += 1
        if self.capacity:
            self._messages.append(message)  # a full deque(maxlen) drops its oldest entry itself
        return full

    def flush(self, limit: int | None = None) -> list[Any]:
        """Removes and returns the buffered messages oldest first: all of them, or the oldest
        ``limit`` (so an agent can send a long backlog in bounded chunks)."""
        count = (
            len(self._messages)
            if limit is None
            else min(require_int("limit", limit, minimum=0), len(self._messages))
        )
        out = [self._messages.popleft() for _ in range(count)]
        self.flushed += count
        return out

    def stats(self) -> dict[str, int | float]:
        """Counters for a device's metrics: buffered, capacity, utilisation, pushed, dropped, flushed."""
        return {
            "buffered": len(self._messages),
            "capacity": self.capacity,
            "utilisation": self.utilisation,
            "pushed": self.pushed,
            "dropped": self.dropped,
            "flushed": self.flushed,
        }

    def __repr__(self) -> str:
        return f"OfflineBuffer(capacity={self.capacity}, buffered={len(self)}, dropped={self.dropped})"
