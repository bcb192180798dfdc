"""GET /api/status: the live swarm's last epoch, node counts and the edge summary."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edgeswarm._json import json_safe
from edgeswarm.service.deps import HubDep, SwarmLoopDep

router = APIRouter(prefix="/api", tags=["swarm"])


@router.get("/status", summary="The live swarm's current figures")
async def status(swarm_loop: SwarmLoopDep, hub: HubDep) -> JSONResponse:
    """The last epoch's figures under the names of an /api/history row (`Swarm.run()`'s columns:
    drift, bytes_per_node_day beside fl_bytes_per_node_day, energy_mj, ...), the node counts
    byzantine, banned and awake as of now (an injection shows before the next epoch), n_nodes,
    seed, epoch_ms, run, the loop's timing (`loop`: the last epoch's duration, overruns, and
    `lateness_ms`, actual start - scheduled start of its last epochs: epochs, last, p50, p99, max), and the edge runtime's summary (`edge.loaded` is false
    until it is loaded). Figures of an epoch not run yet are null."""
    out = swarm_loop.status()
    out["ws"] = hub.stats()
    # Already JSON-safe: a JSONResponse skips FastAPI's generic encoder (~9x the cost of the
    # status itself, and this is the endpoint every dashboard and monitor polls).
    return JSONResponse(json_safe(out))
