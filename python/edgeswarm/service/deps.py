"""FastAPI dependencies shared by the routers: app state, the current user, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from edgeswarm.service.auth import USER_ROLES, User, user_from_token
from edgeswarm.service.hub import Hub
from edgeswarm.service.login_guard import LoginGuard
from edgeswarm.service.loop import SwarmLoop
from edgeswarm.service.settings import Settings
from edgeswarm.service.store import Store

# auto_error=False: a missing token is answered below, with the same 401 as a bad one.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_swarm_loop(request: Request) -> SwarmLoop:
    return request.app.state.swarm_loop


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def get_login_guard(request: Request) -> LoginGuard:
    return request.app.state.login_guard


def get_edge(request: Request) -> Any:
    """The edge runtime; 503 while it is not loaded."""
    edge = getattr(request.app.state, "edge", None)
    if edge is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="edge runtime not loaded")
    return edge


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The user of the bearer token; 401 without a valid one."""
    if not token:
        raise _unauthorized(
            "not authenticated: send 'Authorization: Bearer <token>' from POST /api/auth/token"
        )
    user = user_from_token(request.app.state.store, request.app.state.jwt_key, token)
    if user is None:
        raise _unauthorized("invalid or expired token")
    return user


def require_role(role: str) -> Callable[..., User]:
    """A dependency that returns the current user if their role is `role` or above, else 403."""
    if role not in USER_ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(USER_ROLES)}")

    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.has(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {user.role!r} may not do this; needs {role!r} or above",
            )
        return user

    return dependency


require_viewer = require_role("viewer")
require_operator = require_role("operator")
require_admin = require_role("admin")

# Parameter annotations for routes, e.g. `def f(swarm_loop: SwarmLoopDep, user: OperatorUser)`.
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
SwarmLoopDep = Annotated[SwarmLoop, Depends(get_swarm_loop)]
HubDep = Annotated[Hub, Depends(get_hub)]
LoginGuardDep = Annotated[LoginGuard, Depends(get_login_guard)]
EdgeDep = Annotated[Any, Depends(get_edge)]
CurrentUser = Annotated[User, Depends(current_user)]
ViewerUser = Annotated[User, Depends(require_viewer)]
OperatorUser = Annotated[User, Depends(require_operator)]
AdminUser = Annotated[User, Depends(require_admin)]
