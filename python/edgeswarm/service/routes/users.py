"""/api/users: accounts and their roles (admin), and a user's own password.

A password or role change increments the user's token generation, so every token issued
before it stops working (see auth.user_from_token).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from edgeswarm.service.auth import ADMIN, USER_ROLES, authenticate, change_password, change_role, create_user
from edgeswarm.service.deps import AdminUser, CurrentUser, LoginGuardDep, StoreDep
from edgeswarm.service.settings import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

router = APIRouter(prefix="/api", tags=["users"])

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
Password = Field(..., min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # a string is never a number or a bool

    username: str = Field(..., pattern=USERNAME_PATTERN, description="letters, digits, _ . @ -")
    password: str = Password
    role: Literal[USER_ROLES] = Field("viewer", description="viewer < operator < admin")  # type: ignore[valid-type]


class UserChange(BaseModel):
    """A new role and/or a new password for a user (admin); either revokes the user's tokens."""

    model_config = ConfigDict(extra="forbid")

    role: Literal[USER_ROLES] | None = Field(None, description="viewer < operator < admin")  # type: ignore[valid-type]
    password: str | None = Field(None, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)

    @model_validator(mode="after")
    def _something_to_change(self) -> UserChange:
        if self.role is None and self.password is None:
            raise ValueError("body: give a role, a password or both")
        return self


class PasswordChange(BaseModel):
    """The signed-in user's current password and the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(..., min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Password


class UserOut(BaseModel):
    username: str
    role: str
    created_at: str


def _out(store: StoreDep, username: str) -> UserOut:
    row = store.user(username)
    return UserOut(username=row["username"], role=row["role"], created_at=row["created_at"])


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
    return _out(store, body.username)


@router.post(
    "/users/me/password",
    summary="Change your own password (any signed-in user); your earlier tokens stop working",
    responses={
        403: {"description": "the current password is wrong"},
        429: {"description": "too many wrong current passwords; see Retry-After"},
    },
)
async def change_own_password(
    request: Request, body: PasswordChange, store: StoreDep, user: CurrentUser, guard: LoginGuardDep
) -> UserOut:
    # Checked like a login (throttled per username and address): a stolen token must not become a
    # fast way to guess the password.
    address = request.client.host if request.client is not None else "unknown"
    async with guard.attempt(user.username, address) as attempt:
        confirmed = await run_in_threadpool(authenticate, store, user.username, body.current_password)
        attempt.accepted = confirmed is not None
    if confirmed is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="current_password: wrong password")
    await run_in_threadpool(change_password, store, user.username, body.new_password)
    return _out(store, user.username)


@router.patch(
    "/users/{username}",
    summary="Change a user's role and/or password (admin); their earlier tokens stop working",
    responses={404: {"description": "no such user"}, 409: {"description": "it would leave no admin"}},
)
def change_user(
    body: UserChange,
    store: StoreDep,
    _: AdminUser,
    username: str = Path(..., pattern=USERNAME_PATTERN),
) -> UserOut:
    row = store.user(username)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"username {username!r}: no such user")
    if body.role is not None and body.role != ADMIN and row["role"] == ADMIN and store.count_role(ADMIN) == 1:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"role: {username!r} is the last admin")
    if body.password is not None:
        change_password(store, username, body.password)
    if body.role is not None:
        change_role(store, username, body.role)
    return _out(store, username)
