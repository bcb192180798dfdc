"""The epochs a `Swarm` keeps: the last `limit` epochs' columns in a ring of preallocated arrays.

One row per epoch, one array per column (the engine's `step()` / `run()` keys), so an epoch
costs its column bytes (about 146 + 12 * dim bytes) instead of a dict of small arrays per epoch.
The ring grows by doubling up to `limit`; once full, each new epoch overwrites the oldest.
"""

from __future__ import annotations

import numpy as np

from edgeswarm._validate import require_int

# Rows allocated at the first append (then doubled as needed, never beyond the limit).
_FIRST_CAPACITY = 64


class EpochHistory:
    """The last `limit` epochs appended (every epoch when `limit` is None; none when it is 0)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = None if limit is None else require_int("history", limit, minimum=0)
        self.appended = 0  # epochs appended so far, held or not
        self._columns: dict[str, np.ndarray] = {}
        self._start = 0  # ring index of the oldest held epoch
        self._held = 0

    def __len__(self) -> int:
        """Epochs held."""
        return self._held

    @property
    def capacity(self) -> int:
        """Rows allocated (at most `limit`)."""
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def append(self, columns: dict[str, np.ndarray]) -> None:
        """Adds epochs: `columns` maps each column name to an array of one row per epoch."""
        n = len(next(iter(columns.values())))
        self.appended += n
        keep = n if self.limit is None else min(n, self.limit)
        if keep == 0:
            return
        self._reserve(self._held + keep, columns)
        capacity = self.capacity
        at = (self._start + self._held) % capacity
        first = min(keep, capacity - at)  # rows written before the ring wraps
        for name, column in self._columns.items():
            rows = columns[name][n - keep :]
            column[at : at + first] = rows[:first]
            column[: keep - first] = rows[first:]
        overwritten = max(0, self._held + keep - capacity)
        self._held = min(self._held + keep, capacity)
        self._start = (self._start + overwritten) % capacity

    def columns(self) -> dict[str, np.ndarray]:
        """Every column of the held epochs, oldest first (copies); empty before the first append."""
        return {name: self.column(name) for name in self._columns}

    def column(self, name: str) -> np.ndarray:
        """One column of the held epochs, oldest first (a copy)."""
        column = self._columns[name]
        order = (self._start + np.arange(self._held)) % max(len(column), 1)
        return column[order]

    def _reserve(self, rows: int, like: dict[str, np.ndarray]) -> None:
        # Grows the ring (oldest epoch first again) so that it holds min(rows, limit) rows.
        needed = rows if self.limit is None else min(rows, self.limit)
        if needed <= self.capacity:
            return
        grown = max(needed, 2 * self.capacity, _FIRST_CAPACITY)
        if self.limit is not None:
            grown = min(grown, self.limit)
        held = self.columns()
        self._columns = {}
        for name, sample in like.items():
            column = np.empty((grown, *sample.shape[1:]), dtype=sample.dtype)
            if name in held:
                column[: self._held] = held[name]
            self._columns[name] = column
        self._start = 0
