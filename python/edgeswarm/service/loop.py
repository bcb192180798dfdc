"""The live swarm: one `edgeswarm.Swarm` stepped in real time, its figures kept and broadcast.

`SwarmLoop.step()` runs one epoch (in whatever thread calls it), records the epoch in the
bounded in-memory history and, every `history_every`th epoch, in SQLite, ticks the edge
runtime and publishes the epoch over the hub. `start()` runs `step()` every `epoch_ms` in
a background asyncio task; the step itself runs on a worker thread (the engine releases
the GIL), so requests are answered while an epoch is computed. The task records each epoch's
lateness (actual start - scheduled start; `status()['loop']['lateness_ms']`). Tests never
start the task: they call `step()` and get the same epochs bit for bit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from edgeswarm._json import json_safe
from edgeswarm.service.hub import Hub
from edgeswarm.service.settings import Settings
from edgeswarm.service.store import Store
from edgeswarm.swarm import EPOCH_COLUMNS, Swarm, epoch_line

_log = logging.getLogger("edgeswarm.service")

# Per-node state codes sent to the dashboard's node grid.
NODE_HONEST, NODE_BYZANTINE, NODE_SLEEPING, NODE_BANNED = 0, 1, 2, 3
# Above this many nodes, epoch messages carry no per-node states.
MAX_NODES_STREAMED = 10_000
# Epochs whose lateness the real-time loop keeps (10 minutes at 500 ms).
LATENESS_WINDOW = 1200


def history_row(row: dict[str, Any]) -> dict[str, Any]:
    """One epoch as the API sends it (GET /api/history, WS 'epoch' data): a row of `Swarm.run()`'s
    DataFrame under the same names, JSON-safe (NaN as null)."""
    out = json_safe(row)
    out["regime"] = str(row["regime"])
    return out


def _report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error("the epoch loop stopped", exc_info=task.exception())


class SwarmLoop:
    """Owns the live `Swarm`; thread-safe (one lock around every engine call)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        hub: Hub,
        edge: Any = None,
        *,
        run: int = 0,
        edge_error: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.edge = edge
        self.edge_error = edge_error  # why the edge runtime is not loaded, if it failed to start
        self.run_id = run
        # The loop keeps the API's rows itself (the last `history_memory`, below), so the swarm
        # keeps none: one bounded copy of the live history.
        self.swarm = Swarm(settings.nodes, seed=settings.seed, epoch_ms=settings.epoch_ms, history=0)
        self._lock = threading.Lock()  # around every call into the swarm
        self._history_lock = threading.Lock()  # around the in-memory history (read by requests)
        self._history: deque[dict[str, Any]] = deque(maxlen=settings.history_memory)
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.overruns = 0  # epochs that took longer than epoch_ms
        self.edge_errors = 0
        self.last_step_ms: float | None = None  # wall time of the last epoch, edge tick included
        self._lateness_lock = threading.Lock()
        self._lateness_ms: deque[float] = deque(maxlen=LATENESS_WINDOW)  # of the real-time loop's epochs
        if settings.byzantine:
            self.swarm.inject_byzantine(settings.byzantine, bias=0.9)
        self._status = self._make_status()

    # -- state ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def epoch(self) -> int:
        return self.swarm.epoch

    def status(self) -> dict[str, Any]:
        """The last epoch's figures and node counts (a snapshot; cheap to read)."""
        out = dict(self._status)
        out["running"] = self.running
        out["loop"] = {
            "last_step_ms": self.last_step_ms,
            "overruns": self.overruns,
            "edge_errors": self.edge_errors,
            "lateness_ms": self._lateness_summary(),
        }
        out["edge"] = self._edge_summary()
        return out

    def lateness_ms(self) -> list[float]:
        """Lateness (actual start - scheduled start, ms) of the last `LATENESS_WINDOW` epochs run
        by the real-time loop, oldest first; empty while it has not run."""
        with self._lateness_lock:
            return list(self._lateness_ms)

    def _lateness_summary(self) -> dict[str, Any]:
        samples = np.asarray(self.lateness_ms())
        if not samples.size:
            return {"epochs": 0, "last": None, "p50": None, "p99": None, "max": None}
        p50, p99 = np.percentile(samples, [50, 99])
        return {
            "epochs": int(samples.size),
            "last": float(samples[-1]),
            "p50": float(p50),
            "p99": float(p99),
            "max": float(samples.max()),
        }

    def history(self, limit: int) -> list[dict[str, Any]]:
        """The last `limit` epochs held in memory, oldest first."""
        with self._history_lock:
            rows = list(self._history)
        return rows[-limit:] if limit > 0 else []

    def node_states(self) -> list[int]:
        """One code per node: 0 honest, 1 byzantine, 2 sleeping, 3 banned (banned wins, then byzantine)."""
        with self._lock:
            return self._node_states()

    def _node_states(self) -> list[int]:
        arrays = self.swarm.node_arrays()
        states = np.full(self.swarm.n_nodes, NODE_HONEST, dtype=np.int8)
        states[~arrays["awake"].astype(bool)] = NODE_SLEEPING
        states[arrays["byzantine"].astype(bool)] = NODE_BYZANTINE
        states[arrays["banned"].astype(bool)] = NODE_BANNED
        return states.tolist()

    def _make_status(self) -> dict[str, Any]:
        # Every figure of an epoch, null until the first one has run; node counts as of now.
        out: dict[str, Any] = dict.fromkeys(EPOCH_COLUMNS)
        out.update(json_safe(self.swarm.status()))
        out.update(epoch_ms=self.settings.epoch_ms, seed=self.settings.seed, run=self.run_id)
        return out

    def _edge_summary(self) -> dict[str, Any]:
        if self.edge is None:
            return (
                {"loaded": False} if self.edge_error is None else {"loaded": False, "error": self.edge_error}
            )
        summary = getattr(self.edge, "summary", None)
        return {"loaded": True, **(json_safe(summary()) if callable(summary) else {})}

    # -- commands ------------------------------------------------------------------------

    def inject_byzantine(self, count: int, *, bias: float = 0.9, attack: str = "bias") -> dict[str, Any]:
        """Turns `count` honest nodes Byzantine from the next epoch; returns the new status.

        The engine checks every argument (ValueError naming it, which the API answers as 422).
        """
        with self._lock:
            self.swarm.inject_byzantine(count, bias=bias, attack=attack)
            self._status = self._make_status()
        return self.status()

    def inject_noise(self, *, intensity: float, duration_s: float) -> dict[str, Any]:
        """Adds sensor noise of sd `intensity` for `duration_s` simulated seconds; returns the new status."""
        with self._lock:
            self.swarm.inject_noise(intensity=intensity, duration_s=duration_s)
            self._status = self._make_status()
        return self.status()

    # -- the epoch -----------------------------------------------------------------------

    def step(self) -> dict[str, Any]:
        """Runs one epoch, records and publishes it; returns the 'epoch' message."""
        started = time.perf_counter()
        with self._lock:
            row = history_row(self.swarm.step())
            with self._history_lock:
                self._history.append(row)
            self._status = self._make_status()
            nodes = {"state": self._node_states()} if self.swarm.n_nodes <= MAX_NODES_STREAMED else None
        if row["epoch"] % self.settings.history_every == 0:
            self.store.add_history(self.run_id, row)
        # Wall-clock publish time, so clients can measure delivery delay (benchmarks/bench_service.py).
        message: dict[str, Any] = {"type": "epoch", "data": row, "sent_at": time.time()}
        if nodes is not None:
            message["nodes"] = nodes
        self.hub.publish_threadsafe(message)
        if self.edge is not None:
            self._tick_edge(row)
        self.last_step_ms = 1000.0 * (time.perf_counter() - started)
        if self.settings.print_epochs:
            print(epoch_line(row), flush=True)
        return message

    def _tick_edge(self, row: dict[str, Any]) -> None:
        try:
            messages = self.edge.tick(row["epoch"], row["time_s"]) or []
        except Exception:  # noqa: BLE001 - the swarm keeps running when the edge runtime fails
            self.edge_errors += 1
            _log.exception("edge runtime tick failed at epoch %s", row["epoch"])
            return
        sent_summary = False
        for item in messages:
            if not isinstance(item, dict):
                continue
            if "type" not in item:
                item = {"type": "alert", "data": item}
            sent_summary = sent_summary or item["type"] == "edge"
            self.hub.publish_threadsafe(item)
        summary = getattr(self.edge, "summary", None)
        if not sent_summary and callable(summary):
            self.hub.publish_threadsafe({"type": "edge", "data": summary()})

    # -- real time -----------------------------------------------------------------------

    def start(self) -> None:
        """Starts stepping every `epoch_ms` on the running event loop."""
        if self.running:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-epoch")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="swarm-epoch-loop")
        self._task.add_done_callback(_report_crash)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.settings.epoch_ms / 1000.0
        scheduled = time.monotonic()  # epoch k is scheduled at the first one's start + k periods
        while True:
            started = await loop.run_in_executor(self._executor, self._step_on_schedule, scheduled)
            if started - scheduled >= period:  # a period behind: restart the schedule here, no racing
                scheduled = started
            scheduled += period
            delay = scheduled - time.monotonic()
            if delay < 0:  # the epoch ended after the next one's scheduled start
                self.overruns += 1
            await asyncio.sleep(max(delay, 0.0))

    def _step_on_schedule(self, scheduled: float) -> float:
        # Runs on the epoch thread: the lateness is measured where the epoch really starts.
        started = time.monotonic()
        with self._lateness_lock:
            self._lateness_ms.append(1000.0 * (started - scheduled))
        self.step()
        return started

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
