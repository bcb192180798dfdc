"""Commands to the live swarm: inject Byzantine nodes, inject sensor noise (operator and above).

The request models give the body's shape and types (documented in the OpenAPI schema); the engine
checks every range and names the parameter, and the app answers its ValueError as a 422 carrying
the engine's message. The bodies keep the names the swarm seed gave them: `duration_sec` is
`Swarm.inject_noise(duration_s=...)`, and a 422 about it names `duration_sec`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from edgeswarm._json import json_safe
from edgeswarm.service.deps import OperatorUser, SwarmLoopDep
from edgeswarm.swarm import ATTACKS

router = APIRouter(prefix="/api", tags=["swarm"])

# Body fields named differently from the engine's parameters: engine parameter -> body field.
NOISE_FIELDS: dict[str, str] = {"duration_s": "duration_sec"}


class BodyFieldError(ValueError):
    """An engine error about a parameter that the request body calls `field` (the 422 names `field`)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _for_body(error: ValueError, fields: dict[str, str]) -> ValueError:
    message = str(error)
    for parameter, field in fields.items():
        if message.startswith(f"{parameter}: "):
            return BodyFieldError(message, field)
    return error


class ByzantineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # a string is never a number or a bool

    count: int = Field(
        ...,
        strict=True,
        description="honest nodes to turn Byzantine; the engine allows [0, honest nodes left]",
    )
    bias: float = Field(
        0.9,
        description="the value the attackers push; the engine allows a finite value in the Q16.16 range "
        "[-32768, 32767.99998]",
    )
    attack: str = Field(
        "bias",
        description="the attack the Byzantine nodes run (the engine checks the name)",
        json_schema_extra={"enum": list(ATTACKS)},
    )


class NoiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # a string is never a number or a bool

    intensity: float = Field(
        ...,
        description="sd of the noise added to every reading; the engine allows [0, 32767.99998] (Q16.16)",
    )
    duration_sec: float = Field(
        ...,
        description="how long, in simulated seconds (Swarm.inject_noise's duration_s); 0 ends a storm; "
        "the engine allows finite values >= 0 up to 2^62 epochs",
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
    return json_safe({"injected": body.model_dump(), "by": user.username, "status": status})


@router.post("/inject_noise", summary="Add sensor noise for a while (operator)")
def inject_noise(
    body: NoiseRequest,
    swarm_loop: SwarmLoopDep,
    user: OperatorUser,
) -> dict[str, Any]:
    """Adds Gaussian noise of sd `intensity` to every reading for `duration_sec` simulated seconds
    (a storm: entropy rises and the regime moves to PreStorm / Storm)."""
    try:
        status = swarm_loop.inject_noise(intensity=body.intensity, duration_s=body.duration_sec)
    except ValueError as error:
        raise _for_body(error, NOISE_FIELDS) from error
    return json_safe({"injected": body.model_dump(), "by": user.username, "status": status})
