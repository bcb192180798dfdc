"""GET /api/history: the epochs behind the dashboard's charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from edgeswarm.service.deps import get_engine, get_store
from edgeswarm.service.engine import SwarmLoop
from edgeswarm.service.hub import to_json_safe
from edgeswarm.service.store import Store

router = APIRouter(prefix="/api", tags=["swarm"])


@router.get("/history", summary="Epoch history of the live run or of an earlier one")
def history(
    limit: int = Query(300, ge=1, le=100_000, description="the last N epochs"),
    run: int | None = Query(
        None, ge=1, le=2**62, description="a run kept in the database (see /api/history/runs); default: the live run"
    ),
    engine: SwarmLoop = Depends(get_engine),
    store: Store = Depends(get_store),
) -> list[dict[str, Any]]:
    """One row per epoch, oldest first: epoch, consensus, honest_mean, relative_drift, entropy,
    regime, nodes_* counts, bandwidth, energy and sleep ratio. Without `run`: the live run,
    from memory (every epoch, the last `history_memory`). With `run`: that run as kept in
    SQLite (every `history_every`th epoch; survives restarts)."""
    if run is None:
        return to_json_safe(engine.history(limit))
    if not any(r["run"] == run for r in store.runs()):
        raise HTTPException(404, detail=f"run {run} does not exist")
    return to_json_safe(store.history(run, limit))


@router.get("/history/runs", summary="Every start of the live swarm kept in the database")
def runs(store: Store = Depends(get_store)) -> list[dict[str, Any]]:
    """Run id, start time, configuration, epochs kept and the last one."""
    return to_json_safe(store.runs())
