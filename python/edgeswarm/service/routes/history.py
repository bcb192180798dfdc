"""GET /api/history: the epochs behind the dashboard's charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from edgeswarm._json import json_safe
from edgeswarm.service.deps import StoreDep, SwarmLoopDep

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
    """One row per epoch, oldest first, under the names of `Swarm.run()`'s columns (README "Names"):
    epoch, time_s, consensus, honest_mean, drift, rmse, xi, entropy, regime, the node counts awake,
    reporting, invalid, banned, byzantine, byzantine_banned, honest_banned, bytes_per_node_day,
    fl_bytes_per_node_day, energy_mj, sleep_ratio, noise_intensity, attack_active.
    Without `run`: the live run, from memory (every epoch, the last `history_memory`). With `run`:
    that run as kept in SQLite (every `history_every`th epoch; survives restarts)."""
    if run is None:
        return JSONResponse(json_safe(swarm_loop.history(limit)))  # JSON-safe already: skip the encoder
    if not any(r["run"] == run for r in store.runs()):
        raise HTTPException(404, detail=f"run {run} does not exist")
    return JSONResponse(json_safe(store.history(run, limit)))


@router.get("/history/runs", summary="Every start of the live swarm kept in the database")
def runs(store: StoreDep) -> list[dict[str, Any]]:
    """Run id, start time, configuration, epochs kept and the last one."""
    return json_safe(store.runs())
