"""Accounts: register, sign in (cookie and bearer token), sign out, who am I."""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status

from iris3d.api.deps import SESSION_COOKIE, CurrentUser, ServicesDep, TokenDep
from iris3d.api.schemas import Credentials, Message, SignedIn, UserPublic
from iris3d.api.security import new_token, token_hash
from iris3d.store import users
from iris3d.store.models import utcnow
from iris3d.store.users import EmailTakenError

router = APIRouter(prefix="/auth", tags=["auth"])

_WRONG = "Wrong email or password."


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Message, "description": "The email is taken."}},
)
def register(body: Credentials, services: ServicesDep) -> UserPublic:
    """Create an account; sign in next."""
    password_hash = services.passwords.hash(body.password)
    is_admin = users.normalise_email(body.email) in {
        users.normalise_email(e) for e in services.settings.admin_emails
    }
    try:
        with services.db.session() as session:
            user = users.create_user(session, body.email, password_hash, is_admin=is_admin)
    except EmailTakenError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, str(e)) from e
    return UserPublic.model_validate(user)


@router.post(
    "/signin",
    responses={
        401: {"model": Message, "description": _WRONG},
        429: {"model": Message, "description": "Too many failed attempts; wait."},
    },
)
def sign_in(
    body: Credentials, request: Request, response: Response, services: ServicesDep
) -> SignedIn:
    """Check the password; answer a token for scripts and set the session cookie for browsers.

    Whether the account exists or not, the answer and the time it takes are the same.
    """
    keys = (
        f"ip:{request.client.host if request.client else '-'}",
        f"email:{users.normalise_email(body.email)}",
    )
    wait = services.limiter.retry_after(*keys)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many failed sign-ins; try again in {math.ceil(wait)} s.",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    with services.db.reader() as session:
        user = users.user_by_email(session, body.email)
    if not services.passwords.verify(user.password_hash if user else None, body.password):
        services.limiter.fail(*keys)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _WRONG)
    assert user is not None
    token = new_token()
    expires = utcnow() + timedelta(seconds=services.settings.session_ttl_s)
    with services.db.session() as session:
        users.add_token(session, user.id, token_hash(token), expires)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(services.settings.session_ttl_s),
        httponly=True,
        secure=services.cookie_secure,
        samesite="strict",
        path="/",
    )
    return SignedIn(access_token=token, expires_at=expires, user=UserPublic.model_validate(user))


@router.post("/signout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(user: CurrentUser, token: TokenDep, services: ServicesDep, response: Response) -> None:
    """End this session (the token or cookie used for this request stops working)."""
    if token:
        with services.db.session() as session:
            users.remove_token(session, token_hash(token))
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=services.cookie_secure, samesite="strict"
    )


@router.get("/me")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
