"""Request dependencies: the app's services, and who is asking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from iris3d.api.schemas import Message
from iris3d.api.security import token_hash
from iris3d.api.services import Services
from iris3d.store import users
from iris3d.store.models import User, utcnow

SESSION_COOKIE = "iris_session"

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": Message, "description": "Missing, or not yours."}}

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/signin.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Browser session.")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def presented_token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> str | None:
    """The bearer token if there is one, else the session cookie."""
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return cookie or None


TokenDep = Annotated[str | None, Depends(presented_token)]


def user_for(services: Services, token: str | None) -> User | None:
    """The live, enabled account ``token`` signs in as (sessions idle too long are dead); each
    use is noted, at most once a minute, so the idle timeout runs from the last one."""
    if not token:
        return None
    hashed, now = token_hash(token), utcnow()
    idle_s = services.settings.session_idle_s
    every_s = min(60.0, idle_s / 4)
    with services.db.reader() as session:
        user = users.user_for_token(session, hashed, now, idle_s)
        row = users.token_by_hash(session, hashed) if user is not None else None
        last_used = row.last_used_at if row is not None else None
    if user is not None and (last_used is None or (now - last_used).total_seconds() > every_s):
        with services.db.session() as session:
            users.touch_token(session, hashed, now, every_s=every_s)
    return user


def get_current_user(services: ServicesDep, token: TokenDep) -> User:
    user = user_for(services, token)
    if user is not None:
        return user
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Sign in first.",
        headers={"WWW-Authenticate": "Bearer"},
    )


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only administrators can do this.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


# Databases hold 64-bit integers at most: a larger OFFSET is an error there, not an empty page.
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip.")]


def not_found(what: str) -> HTTPException:
    """The answer for anything missing or someone else's: the two look the same."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"No such {what}.")
