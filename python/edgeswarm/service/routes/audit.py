"""GET /api/audit: the audit log, newest first (admin only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from edgeswarm.service.deps import AdminUser, StoreDep

router = APIRouter(prefix="/api", tags=["audit"])


class AuditEntry(BaseModel):
    id: int
    when: str  # UTC, ISO 8601; the first of `count` requests
    who: str  # username, or "anonymous"
    method: str
    path: str
    what: str  # the body as JSON text or a <description>, values of fields not on the allow-list masked
    outcome: int | Literal["pending"]  # HTTP status code; "pending": written, never answered
    count: int = 1  # requests this entry stands for: repeated anonymous failures are aggregated
    last: str  # UTC, ISO 8601: the last of them (== when if count is 1)


@router.get("/audit", summary="Every mutating request and its outcome (admin)")
def audit(
    store: StoreDep,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[AuditEntry]:
    return [AuditEntry(**entry) for entry in store.audit(limit, offset)]
