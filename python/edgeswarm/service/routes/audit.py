"""GET /api/audit: the audit log, newest first (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from edgeswarm.service.auth import User
from edgeswarm.service.deps import get_store, require_admin
from edgeswarm.service.store import Store

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
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=2**62),
    store: Store = Depends(get_store),
    _: User = Depends(require_admin),
) -> list[AuditEntry]:
    return [AuditEntry(**entry) for entry in store.audit(limit, offset)]
