"""GET /api/status: the live swarm's last epoch, node counts and the edge summary."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edgeswarm.service.deps import SwarmLoopDep, HubDep
from edgeswarm.service.hub import to_json_safe

router = APIRouter(prefix="/api", tags=["swarm"])


@router.get("/status", summary="The live swarm's current figures")
async def status(swarm_loop: SwarmLoopDep, hub: HubDep) -> JSONResponse:
    """Epoch, consensus, honest mean, relative drift, entropy, regime, node counts by state,
    bandwidth per node per day beside the federated-learning baseline, energy, sleep ratio,
    and the edge runtime's summary (`edge.loaded` is false until it is loaded). `loop` tells
    how the real-time loop keeps time: the last epoch's duration, overruns, and `lateness_ms`
    (actual start - scheduled start of its last epochs: epochs, last, p50, p99, max).
    Figures of an epoch not run yet are null."""
    out = swarm_loop.status()
    out["ws"] = hub.stats()
    # Already JSON-safe: a JSONResponse skips FastAPI's generic encoder (~9x the cost of the
    # status itself, and this is the endpoint every dashboard and monitor polls).
    return JSONResponse(to_json_safe(out))
