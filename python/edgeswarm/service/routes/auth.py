"""POST /api/auth/token: the OAuth2 password flow (form fields username, password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from edgeswarm.service.auth import authenticate, issue_token
from edgeswarm.service.deps import SettingsDep, StoreDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int  # seconds


@router.post(
    "/token",
    summary="Log in: a bearer token for the given user",
    responses={401: {"description": "wrong username or password"}},
)
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    store: StoreDep,
    settings: SettingsDep,
) -> Token:
    """Send `username` and `password` as a form; use the answer as `Authorization: Bearer <access_token>`."""
    user = authenticate(store, form.username, form.password)
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
