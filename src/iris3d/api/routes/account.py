"""Your account: change the password, sign out everywhere, API tokens, quotas."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Response, status

from iris3d.api.account_schemas import (
    Ended,
    PasswordChange,
    QuotasPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    TokensPublic,
)
from iris3d.api.deps import NOT_FOUND, CurrentUser, ServicesDep, TokenDep, not_found
from iris3d.api.quotas import quotas
from iris3d.api.routes.auth import clear_session_cookie
from iris3d.api.schemas import Message
from iris3d.api.security import new_token, token_hash
from iris3d.store import users
from iris3d.store.models import TokenKind, utcnow
from iris3d.store.usage import usage

router = APIRouter(prefix="/auth", tags=["auth"])

_MAX_API_TOKENS = 50


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"model": Message, "description": "The current password is wrong."}},
)
def change_password(
    body: PasswordChange, user: CurrentUser, token: TokenDep, services: ServicesDep
) -> None:
    """Set a new password; every other session and API token of the account ends."""
    if not services.passwords.verify(user.password_hash, body.current_password):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The current password is wrong.")
    new_hash = services.passwords.hash(body.new_password)
    with services.db.session() as session:
        fresh = users.user_by_id(session, user.id)
        if fresh is None:
            raise not_found("account")
        users.set_password_hash(session, fresh, new_hash)
        users.remove_tokens(session, user.id, keep_hash=token_hash(token) if token else None)


@router.post("/signout-everywhere")
def sign_out_everywhere(user: CurrentUser, services: ServicesDep, response: Response) -> Ended:
    """End every session and API token of the account, this one included."""
    with services.db.session() as session:
        ended = users.remove_tokens(session, user.id)
    clear_session_cookie(response, services)
    return Ended(ended=ended)


@router.get("/tokens")
def list_tokens(user: CurrentUser, token: TokenDep, services: ServicesDep) -> TokensPublic:
    """Your live sessions and API tokens (never their secrets)."""
    current = token_hash(token) if token else ""
    with services.db.reader() as session:
        rows = users.list_tokens(session, user.id, utcnow())
    return TokensPublic(
        items=[
            TokenPublic.model_validate(row).model_copy(
                update={"current": row.token_hash == current}
            )
            for row in rows
        ]
    )


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Message, "description": "Too many API tokens."}},
)
def create_token(body: TokenCreate, user: CurrentUser, services: ServicesDep) -> TokenCreated:
    """A named API token for scripts; its secret is shown only in this answer."""
    days = body.expires_in_days
    ttl_s = days * 86400.0 if days is not None else services.settings.api_token_ttl_s
    secret = new_token()
    with services.db.session() as session:
        if users.count_tokens(session, user.id, TokenKind.API) >= _MAX_API_TOKENS:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"You have {_MAX_API_TOKENS} API tokens; revoke one you no longer use.",
            )
        row = users.add_token(
            session,
            user.id,
            token_hash(secret),
            utcnow() + timedelta(seconds=ttl_s),
            kind=TokenKind.API,
            name=body.name,
        )
        public = TokenPublic.model_validate(row)
    return TokenCreated(token=public, secret=secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def revoke_token(token_id: str, user: CurrentUser, services: ServicesDep) -> None:
    """End one session or API token of yours."""
    with services.db.session() as session:
        if not users.remove_token_by_id(session, user.id, token_id):
            raise not_found("token")


@router.get("/quotas")
def my_quotas(user: CurrentUser, services: ServicesDep) -> QuotasPublic:
    """Your limits and what you use of each."""
    with services.db.reader() as session:
        used = usage(session, user.id)
    return QuotasPublic(items=quotas(user, used, services.settings))
