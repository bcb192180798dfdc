"""GET/POST /api/users: accounts and their roles (admin only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from edgeswarm.service.auth import USER_ROLES, create_user
from edgeswarm.service.deps import AdminUser, StoreDep

router = APIRouter(prefix="/api", tags=["users"])


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # a string is never a number or a bool

    username: str = Field(..., pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="letters, digits, _ . @ -")
    password: str = Field(..., min_length=8, max_length=256)
    role: Literal[USER_ROLES] = Field("viewer", description="viewer < operator < admin")  # type: ignore[valid-type]


class UserOut(BaseModel):
    username: str
    role: str
    created_at: str


@router.get("/users", summary="Every user and role (admin)")
def list_users(store: StoreDep, _: AdminUser) -> list[UserOut]:
    return [UserOut(**u) for u in store.users()]


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user with a role (admin)",
    responses={409: {"description": "the username is taken"}},
)
def add_user(body: NewUser, store: StoreDep, _: AdminUser) -> UserOut:
    if not create_user(store, body.username, body.password, body.role):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"username {body.username!r} is taken")
    row = store.user(body.username)
    return UserOut(username=row["username"], role=row["role"], created_at=row["created_at"])
