"""GET /api/audit: the audit log, newest first (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from edgeswarm.service.deps import AdminUser, StoreDep

router = APIRouter(prefix="/api", tags=["audit"])


class AuditEntry(BaseModel):
    id: int
    when: str  # UTC, ISO 8601
    who: str  # username, or "anonymous"
    method: str
    path: str
    what: str  # the body as JSON text, secrets masked
    outcome: int  # HTTP status code


@router.get("/audit", summary="Every mutating request and its outcome (admin)")
def audit(
    store: StoreDep,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[AuditEntry]:
    return [AuditEntry(**entry) for entry in store.audit(limit, offset)]
