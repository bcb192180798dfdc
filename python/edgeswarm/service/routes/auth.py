"""POST /api/auth/token: the OAuth2 password flow (form fields username, password), throttled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from edgeswarm.service.auth import authenticate, issue_token
from edgeswarm.service.deps import LoginGuardDep, SettingsDep, StoreDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int  # seconds


@router.post(
    "/token",
    summary="Log in: a bearer token for the given user",
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed logins for this username or address; see Retry-After"},
        503: {"description": "too many logins being checked at once; see Retry-After"},
    },
)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    store: StoreDep,
    settings: SettingsDep,
    guard: LoginGuardDep,
) -> Token:
    """Send `username` and `password` as a form; use the answer as `Authorization: Bearer <access_token>`.

    Failed logins are throttled per username and per client address (429 with `Retry-After`),
    and password hashes are computed a few at a time (503 with `Retry-After` when busy); see
    the `login_*` settings."""
    address = request.client.host if request.client is not None else "unknown"
    async with guard.attempt(form.username, address) as attempt:
        user = await run_in_threadpool(authenticate, store, form.username, form.password)
        attempt.accepted = user is not None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(
        access_token=issue_token(request.app.state.jwt_key, user, settings.token_minutes),
        role=user.role,
        expires_in=settings.token_minutes * 60,
    )
