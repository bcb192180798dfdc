"""GET /api/history: the epochs behind the dashboard's charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from edgeswarm.service.deps import SwarmLoopDep, StoreDep
from edgeswarm.service.hub import to_json_safe

router = APIRouter(prefix="/api", tags=["swarm"])


@router.get("/history", summary="Epoch history of the live run or of an earlier one")
def history(
    swarm_loop: SwarmLoopDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100_000, description="the last N epochs")] = 300,
    run: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**62,
            description="a run kept in the database (see /api/history/runs); default: the live run",
        ),
    ] = None,
) -> JSONResponse:
    """One row per epoch, oldest first: epoch, consensus, honest_mean, relative_drift, entropy,
    regime, nodes_* counts, bandwidth, energy and sleep ratio. Without `run`: the live run,
    from memory (every epoch, the last `history_memory`). With `run`: that run as kept in
    SQLite (every `history_every`th epoch; survives restarts)."""
    if run is None:
        return JSONResponse(to_json_safe(swarm_loop.history(limit)))  # JSON-safe already: skip the encoder
    if not any(r["run"] == run for r in store.runs()):
        raise HTTPException(404, detail=f"run {run} does not exist")
    return JSONResponse(to_json_safe(store.history(run, limit)))


@router.get("/history/runs", summary="Every start of the live swarm kept in the database")
def runs(store: StoreDep) -> list[dict[str, Any]]:
    """Run id, start time, configuration, epochs kept and the last one."""
    return to_json_safe(store.runs())
