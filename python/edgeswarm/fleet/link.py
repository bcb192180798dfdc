"""Seeded simulated uplinks of edge devices: each message is lost or delivered after a latency.

A device's link gets worse as its signal weakens: with ``w`` = 0 at ``good_dbm`` or better and
1 at ``offline_dbm`` (linear between), a message is lost with probability
``base_loss + (weak_loss - base_loss) * w`` and otherwise delivered after
``base_latency_ms + weak_latency_ms * w + jitter``, the jitter uniform over the whole
microseconds of [0, ``jitter_ms``). Messages of a device that is offline when it sends are
dropped at once, with no draw.

Every draw comes from the network simulator's own link model (:class:`edgeswarm.net.LinkRules`,
the C++ ``net::LinkSampler`` that decides the messages of a simulated Raft cluster): one batch
draw per :meth:`DeviceLink.send` call, with the signal-dependent loss and extra latency passed
per message, from stream ``_seeds.stream(UPLINK, batch)`` of the link's seed. So the same seed
and the same sequence of sends give the same losses and latencies, bit for bit. Latencies are
whole microseconds (the engine's unit), reported in milliseconds.

Time is the service's simulated time in seconds: a message sent at ``now_s`` is in flight
until the first :meth:`DeviceLink.deliver` call at or after ``now_s + latency``. At every
moment, per device, ``sent == received + dropped + in_flight``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeswarm import _seeds, net

__all__ = ["DeviceLink", "LinkOptions"]


@dataclass(frozen=True)
class LinkOptions:
    """Link model parameters (see the module docstring)."""

    base_latency_ms: float = 20.0
    weak_latency_ms: float = 180.0
    jitter_ms: float = 60.0
    base_loss: float = 0.01
    weak_loss: float = 0.25
    good_dbm: float = -60.0
    offline_dbm: float = -95.0
    latency_samples: int = 50  # latencies kept per device for latency_samples
    inbox: int = 10  # delivered published messages kept per device


class DeviceLink:
    """Uplinks of ``n`` devices (rows 0..n-1; :meth:`grow` adds rows) seeded by ``seed``."""

    def __init__(self, n: int, *, seed: int, options: LinkOptions | None = None) -> None:
        self.options = options or LinkOptions()
        self._seed = int(seed)
        self._batches = 0  # one RNG stream per batch of sends
        o = self.options
        jitter_us = round(o.jitter_ms * 1000.0)
        # The jitter's upper end is exclusive: whole microseconds 0 .. jitter_us - 1.
        base = net.LatencyModel.uniform(o.base_latency_ms, o.base_latency_ms + max(jitter_us - 1, 0) / 1000.0)
        self._rules = net.LinkRules(latency=base)
        self._next_id = 1
        self._sent = np.zeros(0, np.int64)
        self._received = np.zeros(0, np.int64)
        self._lost = np.zeros(0, np.int64)
        self._offline = np.zeros(0, np.int64)
        self._latency_sum = np.zeros(0, np.float64)
        self._samples = np.zeros((0, self.options.latency_samples), np.float64)
        # Messages in flight: parallel arrays, appended per batch, filtered on delivery.
        self._due_s = np.zeros(0, np.float64)
        self._row = np.zeros(0, np.int64)
        self._latency = np.zeros(0, np.float64)
        self._ids = np.zeros(0, np.int64)  # message id, 0 for telemetry
        self._payloads: dict[int, Any] = {}
        self._inbox: dict[int, deque[dict[str, Any]]] = {}
        self.grow(n)

    def __len__(self) -> int:
        return len(self._sent)

    def grow(self, n: int) -> None:
        """Extends the link to ``n`` devices (new rows start with zero counters)."""
        extra = n - len(self)
        if extra <= 0:
            return
        self._sent = np.concatenate([self._sent, np.zeros(extra, np.int64)])
        self._received = np.concatenate([self._received, np.zeros(extra, np.int64)])
        self._lost = np.concatenate([self._lost, np.zeros(extra, np.int64)])
        self._offline = np.concatenate([self._offline, np.zeros(extra, np.int64)])
        self._latency_sum = np.concatenate([self._latency_sum, np.zeros(extra, np.float64)])
        pad = np.full((extra, self.options.latency_samples), np.nan)
        self._samples = np.concatenate([self._samples, pad])

    def send(
        self,
        rows: np.ndarray,
        dbm: np.ndarray,
        online: np.ndarray,
        now_s: float,
        *,
        payloads: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Sends one message from each device in ``rows`` (with its signal strength and online
        flag) at ``now_s``; ``payloads`` (one per row) makes them tracked messages with ids
        whose delivery lands in the device's inbox. Returns one outcome dict per message."""
        rows = np.asarray(rows, np.int64)
        m = len(rows)
        if m == 0:
            return []
        o = self.options
        span = o.good_dbm - o.offline_dbm
        weakness = np.clip((o.good_dbm - np.asarray(dbm, np.float64)) / span, 0.0, 1.0)
        offline = ~np.asarray(online, bool)
        on = np.flatnonzero(~offline)
        fates = self._rules.draw(
            len(on),
            seed=self._seed,
            stream=_seeds.stream(_seeds.UPLINK, self._batches),
            loss=o.base_loss + (o.weak_loss - o.base_loss) * weakness[on],
            extra_delay_ms=o.weak_latency_ms * weakness[on],
        )
        self._batches += 1
        # No duplication on these links: one copy per message.
        lost = np.zeros(m, bool)
        lost[on] = fates.lost
        latency = np.full(m, np.nan)
        latency[on] = fates.delay_ms
        flying = ~offline & ~lost
        np.add.at(self._sent, rows, 1)
        np.add.at(self._offline, rows[offline], 1)
        np.add.at(self._lost, rows[lost], 1)
        ids = np.zeros(m, np.int64)
        if payloads is not None:
            ids = np.arange(self._next_id, self._next_id + m, dtype=np.int64)
            self._next_id += m
            for i in np.flatnonzero(flying):
                self._payloads[int(ids[i])] = payloads[i]
        self._due_s = np.concatenate([self._due_s, now_s + latency[flying] / 1000.0])
        self._row = np.concatenate([self._row, rows[flying]])
        self._latency = np.concatenate([self._latency, latency[flying]])
        self._ids = np.concatenate([self._ids, ids[flying]])
        status = np.where(offline, "dropped_offline", np.where(lost, "dropped_loss", "in_flight"))
        return [
            {
                "message_id": int(ids[i]) if payloads is not None else None,
                "status": str(status[i]),
                "sent_t_s": float(now_s),
                "latency_ms": float(latency[i]) if flying[i] else None,
                "due_t_s": float(now_s + latency[i] / 1000.0) if flying[i] else None,
            }
            for i in range(m)
        ]

    def deliver(self, now_s: float) -> int:
        """Delivers every message due at or before ``now_s``; returns how many."""
        due = self._due_s <= now_s
        if not due.any():
            return 0
        # Deliveries in due-time order (stable), so latency_samples keep arrival order.
        order = np.flatnonzero(due)[np.argsort(self._due_s[due], kind="stable")]
        rows, latency, ids = self._row[order], self._latency[order], self._ids[order]
        np.add.at(self._received, rows, 1)
        np.add.at(self._latency_sum, rows, latency)
        self._record_samples(rows, latency)
        for i in np.flatnonzero(ids):
            payload = self._payloads.pop(int(ids[i]))
            inbox = self._inbox.setdefault(int(rows[i]), deque(maxlen=self.options.inbox))
            inbox.append({"message_id": int(ids[i]), "latency_ms": float(latency[i]), "message": payload})
        keep = ~due
        self._due_s, self._row = self._due_s[keep], self._row[keep]
        self._latency, self._ids = self._latency[keep], self._ids[keep]
        return len(order)

    def _record_samples(self, rows: np.ndarray, latency: np.ndarray) -> None:
        # Ring buffer per device: the k-th delivery of a device goes to slot k mod K. A device
        # with more than K deliveries in this batch keeps only its last K.
        k = self._samples.shape[1]
        order = np.argsort(rows, kind="stable")
        rows, latency = rows[order], latency[order]
        starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
        counts = np.diff(np.r_[starts, len(rows)])
        rank = np.arange(len(rows)) - np.repeat(starts, counts)
        keep = rank >= np.repeat(counts, counts) - k
        before = self._received[rows] - np.repeat(counts, counts)  # deliveries before this batch
        slot = (before + rank) % k
        self._samples[rows[keep], slot[keep]] = latency[keep]

    def metrics(self, row: int) -> dict[str, Any]:
        """Counters of one device: sent, received, dropped (lost + offline), in_flight,
        avg_latency (ms, None before the first delivery) and its latest latency_samples (ms)."""
        received = int(self._received[row])
        k = self._samples.shape[1]
        if received <= k:
            samples = self._samples[row, :received]
        else:
            start = received % k
            samples = np.r_[self._samples[row, start:], self._samples[row, :start]]
        dropped = int(self._lost[row] + self._offline[row])
        return {
            "sent": int(self._sent[row]),
            "received": received,
            "dropped": dropped,
            "dropped_loss": int(self._lost[row]),
            "dropped_offline": int(self._offline[row]),
            "in_flight": int((self._row == row).sum()),  # counted, not derived: the invariant is checkable
            "avg_latency": float(self._latency_sum[row] / received) if received else None,
            "latency_samples": [float(v) for v in samples],
            "inbox": list(self._inbox.get(row, ())),
        }

    def totals(self) -> dict[str, Any]:
        """Counters summed over devices."""
        received = int(self._received.sum())
        dropped = int(self._lost.sum() + self._offline.sum())
        return {
            "sent": int(self._sent.sum()),
            "received": received,
            "dropped": dropped,
            "in_flight": len(self._due_s),
            "avg_latency": float(self._latency_sum.sum() / received) if received else None,
        }
