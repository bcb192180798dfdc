"""Commands to the live swarm: inject Byzantine nodes, inject sensor noise (operator and above)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from edgeswarm.service.deps import SwarmLoopDep, OperatorUser
from edgeswarm.service.loop import MAX_BIAS
from edgeswarm.service.hub import to_json_safe
from edgeswarm.swarm import ATTACKS

router = APIRouter(prefix="/api", tags=["swarm"])

# A year of simulated time: longer noise would only overflow the engine's epoch counter.
MAX_NOISE_S = 365 * 24 * 3600.0
MAX_NOISE_SD = 1000.0


class ByzantineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(
        ..., ge=0, strict=True, description="honest nodes to turn Byzantine (at most the honest nodes left)"
    )
    bias: float = Field(
        0.9, ge=-MAX_BIAS, le=MAX_BIAS, allow_inf_nan=False, description="the value the attackers push"
    )
    attack: Literal[ATTACKS] = Field("bias", description="the attack the Byzantine nodes run")  # type: ignore[valid-type]


class NoiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intensity: float = Field(
        ...,
        ge=0.0,
        le=MAX_NOISE_SD,
        allow_inf_nan=False,
        description="sd of the noise added to every reading",
    )
    duration_sec: float = Field(
        ..., gt=0.0, le=MAX_NOISE_S, allow_inf_nan=False, description="how long, in simulated seconds"
    )


@router.post("/inject_byzantine", summary="Turn honest nodes Byzantine (operator)")
def inject_byzantine(
    body: ByzantineRequest,
    swarm_loop: SwarmLoopDep,
    user: OperatorUser,
) -> dict[str, Any]:
    """Picks `count` random honest nodes (seeded) that run `attack` with `bias` from the next epoch.
    Answers the injection and the swarm's status right after it."""
    status = swarm_loop.inject_byzantine(body.count, bias=body.bias, attack=body.attack)
    return to_json_safe({"injected": body.model_dump(), "by": user.username, "status": status})


@router.post("/inject_noise", summary="Add sensor noise for a while (operator)")
def inject_noise(
    body: NoiseRequest,
    swarm_loop: SwarmLoopDep,
    user: OperatorUser,
) -> dict[str, Any]:
    """Adds Gaussian noise of sd `intensity` to every reading for `duration_sec` simulated seconds
    (a storm: entropy rises and the regime moves to PreStorm / Storm)."""
    status = swarm_loop.inject_noise(intensity=body.intensity, duration_s=body.duration_sec)
    return to_json_safe({"injected": body.model_dump(), "by": user.username, "status": status})
