"""Accounts: register, sign in (cookie and bearer token), sign out, who am I.

Nobody becomes an administrator here: that is ``iris db make-admin EMAIL`` on the server.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status

from iris3d.api.account_schemas import Registration
from iris3d.api.deps import SESSION_COOKIE, CurrentUser, ServicesDep, TokenDep
from iris3d.api.ratelimit import too_many
from iris3d.api.schemas import Credentials, Message, SignedIn, UserPublic
from iris3d.api.security import new_token, token_hash
from iris3d.api.services import Services
from iris3d.store import users
from iris3d.store.models import User, utcnow
from iris3d.store.users import EmailTakenError

router = APIRouter(prefix="/auth", tags=["auth"])

_WRONG = "Wrong email or password."
_TOO_MANY: dict[int | str, dict[str, object]] = {
    429: {"model": Message, "description": "Too many attempts; wait (Retry-After)."}
}


def _check_signup_allowed(body: Registration, request: Request, services: Services) -> None:
    mode = services.settings.signup_mode
    if mode == "closed":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Sign-up is closed; ask an administrator.")
    if mode == "invite" and not body.invite:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Sign-up needs an invite code.")
    client = f"client:{services.clients.address(request)}"
    limiters = services.limiters
    wait = max(limiters.signup_client.retry_after(client), limiters.signup_all.retry_after("all"))
    if wait > 0:
        raise too_many(wait, "sign-ups")
    limiters.signup_client.fail(client)  # every attempt counts: each may cost a hash
    limiters.signup_all.fail("all")


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"model": Message, "description": "Sign-up is closed or needs an invite."},
        409: {"model": Message, "description": "The email is taken."},
        **_TOO_MANY,
    },
)
def register(body: Registration, request: Request, services: ServicesDep) -> UserPublic:
    """Create an account (no administrator rights); sign in next."""
    _check_signup_allowed(body, request, services)
    with services.db.reader() as session:
        if users.user_by_email(session, body.email) is not None:
            raise EmailTakenError()
    password_hash = services.passwords.hash(body.password)
    # EmailTakenError (a race with another sign-up) and InviteInvalidError roll the session back,
    # so no account is made; the app's error table answers 409 and 403.
    with services.db.session() as session:
        user = users.create_user(session, body.email, password_hash, is_admin=False)
        if services.settings.signup_mode == "invite":
            users.use_invite(session, token_hash(body.invite or ""), user.id, utcnow())
    return UserPublic.model_validate(user)


@router.post("/signin", responses={401: {"model": Message, "description": _WRONG}, **_TOO_MANY})
def sign_in(
    body: Credentials, request: Request, response: Response, services: ServicesDep
) -> SignedIn:
    """Check the password; answer a token for scripts and set the session cookie for browsers.

    Whether the account exists or not, the answer and the time it takes are the same. Failed
    attempts are counted per (account, client) and per client, never per account alone: a
    guesser cannot lock the owner out.
    """
    client = services.clients.address(request)
    pair = f"{users.normalise_email(body.email)}|{client}"
    limiters = services.limiters
    wait = max(limiters.signin_pair.retry_after(pair), limiters.signin_client.retry_after(client))
    if wait > 0:
        raise too_many(wait, "failed sign-ins")
    with services.db.reader() as session:
        user = users.user_by_email(session, body.email)
    # An account that signs in through an OpenID provider has no password: checked like none.
    stored = user.password_hash if user is not None and users.has_password(user) else None
    right = services.passwords.verify(stored, body.password)
    if not right or user is None or user.disabled:
        limiters.signin_pair.fail(pair)
        limiters.signin_client.fail(client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _WRONG)
    token, expires = start_session(services, user, response)
    return SignedIn(access_token=token, expires_at=expires, user=UserPublic.model_validate(user))


def start_session(services: Services, user: User, response: Response) -> tuple[str, datetime]:
    """A new session token for ``user``, also set as the browser's session cookie."""
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
    return token, expires


def clear_session_cookie(response: Response, services: Services) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=services.cookie_secure, samesite="strict"
    )


@router.post("/signout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(user: CurrentUser, token: TokenDep, services: ServicesDep, response: Response) -> None:
    """End this session (the token or cookie used for this request stops working)."""
    if token:
        with services.db.session() as session:
            users.remove_token(session, token_hash(token))
    clear_session_cookie(response, services)


@router.get("/me")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
