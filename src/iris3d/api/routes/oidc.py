"""Sign-in with the institution: OpenID Connect beside the local accounts (docs/interop.md).

The browser leaves for the provider from ``/oidc/login`` and comes back to ``/oidc/callback``;
what the sign-in must remember meanwhile (state, nonce, PKCE verifier) rides in a signed,
ten-minute, HttpOnly cookie of its own, used once. Failures answer a short page saying why
(4xx, or 502 when the provider cannot be reached); the log says why too, never who or a token.
"""

from __future__ import annotations

import html
import logging
from typing import Annotated

from fastapi import APIRouter, Cookie, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from iris3d.api.account_schemas import SignInProvider
from iris3d.api.deps import Responses, ServicesDep, TokenDep, user_for
from iris3d.api.oidc import OidcClient, ProviderAccount, error_code
from iris3d.api.oidc_flow import (
    FLOW_TTL_S,
    AccountConflictError,
    AccountRefusedError,
    Flow,
    SignInError,
    new_flow,
    open_flow,
    seal_flow,
    state_matches,
)
from iris3d.api.routes.auth import start_session
from iris3d.api.schemas import Message
from iris3d.api.services import Services
from iris3d.store import identities, users
from iris3d.store.models import User, utcnow
from iris3d.store.users import EmailTakenError

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger(__name__)

FLOW_COOKIE = "iris_oidc_flow"
FLOW_PATH = "/api/auth/oidc"
CALLBACK_PATH = f"{FLOW_PATH}/callback"
_PAGE: dict[str, object] = {"content": {"text/html": {}}}
_NOT_CONFIGURED: Responses = {
    404: {"model": Message, "description": "No identity provider is configured here."}
}
_FAILED: Responses = {
    code: {**_PAGE, "description": why}
    for code, why in (
        (400, "State, code or flow refused (a page saying why)."),
        (401, "The provider's ID token was refused."),
        (403, "The account may not sign in here."),
        (409, "The provider's account cannot be linked to an Iris account."),
        (502, "The provider cannot be reached."),
    )
}


@router.get("/providers")
def providers(services: ServicesDep) -> list[SignInProvider]:
    """Ways to sign in besides e-mail and password (the web app shows a button for each)."""
    if services.oidc is None:
        return []
    login = f"{FLOW_PATH}/login"
    return [SignInProvider(name=services.oidc.name, login_url=login, link_url=f"{login}?link=1")]


class CallbackQueryRedacted(logging.Filter):
    """uvicorn's access log writes each request's path with its query: the callback's carries
    the provider's one-use code and the state, which belong in no log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        path = args[2] if isinstance(args, tuple) and len(args) >= 3 else None
        if isinstance(args, tuple) and isinstance(path, str) and path.startswith(CALLBACK_PATH):
            record.args = (*args[:2], f"{CALLBACK_PATH}?(redacted)", *args[3:])
        return True


def redact_callback_queries() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, CallbackQueryRedacted) for f in access.filters):
        access.addFilter(CallbackQueryRedacted())


def _client(services: Services) -> OidcClient:
    if services.oidc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No identity provider is configured here.")
    return services.oidc


def _redirect_uri(request: Request, services: Services) -> str:
    if services.settings.oidc_redirect_url:
        return services.settings.oidc_redirect_url
    scheme = "https" if services.clients.is_https(request) else request.url.scheme
    return str(request.url.replace(scheme=scheme, path=CALLBACK_PATH, query="", fragment=""))


def _failure(client: OidcClient, error: SignInError) -> HTMLResponse:
    log.warning("sign-in with %s refused: %s", client.name, error)
    page = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Sign-in failed · Iris</title>'
        '<link rel="icon" href="data:,">'  # no favicon request, which would 404
        f'<main><h1>Sign-in failed</h1><p id="reason">{html.escape(str(error))}</p>'
        '<p><a href="/signin">Back to the sign-in page</a></p></main></html>'
    )
    return HTMLResponse(page, status_code=error.status)


@router.get(
    "/oidc/login",
    response_class=RedirectResponse,
    status_code=status.HTTP_302_FOUND,
    responses={
        **_NOT_CONFIGURED,
        401: {"model": Message, "description": "Linking needs a signed-in user."},
        502: _FAILED[502],
    },
)
def oidc_login(
    request: Request,
    services: ServicesDep,
    token: TokenDep,
    link: Annotated[bool, Query(description="Link the provider's account to mine.")] = False,
) -> Response:
    """Leave for the identity provider, which sends the browser back to the callback. With
    ``link``, the signed-in user's account gets the provider's account linked to it."""
    client = _client(services)
    linking = user_for(services, token) if link else None
    if link and linking is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first, then link.")
    flow = new_flow(_redirect_uri(request, services), linking.id if linking else None)
    try:
        url = client.authorization_url(flow)
    except SignInError as e:
        return _failure(client, e)
    response = RedirectResponse(url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        FLOW_COOKIE,
        seal_flow(services.settings.secret_key, flow),
        max_age=FLOW_TTL_S,
        httponly=True,
        secure=services.cookie_secure,
        samesite="lax",  # it must come back with the provider's redirect, a cross-site GET
        path=FLOW_PATH,
    )
    return response


_Param = Annotated[str | None, Query(max_length=4096)]


@router.get(
    "/oidc/callback",
    response_class=RedirectResponse,
    status_code=status.HTTP_303_SEE_OTHER,
    responses={**_NOT_CONFIGURED, **_FAILED},
)
def oidc_callback(
    services: ServicesDep,
    code: _Param = None,
    state: _Param = None,
    error: _Param = None,
    iss: _Param = None,
    flow_cookie: Annotated[str | None, Cookie(alias=FLOW_COOKIE)] = None,
) -> Response:
    """Where the provider sends the browser back: check everything, then sign in (the same
    session cookie as a password sign-in) and go to the study list."""
    client = _client(services)
    response: Response
    try:
        flow = open_flow(services.settings.secret_key, flow_cookie)
        user = _signed_in_user(services, client, flow, code, state, error, iss)
    except SignInError as e:
        response = _failure(client, e)
    else:
        response = RedirectResponse("/account" if flow.link_user_id else "/", 303)
        start_session(services, user, response)
    response.delete_cookie(
        FLOW_COOKIE, path=FLOW_PATH, httponly=True, secure=services.cookie_secure, samesite="lax"
    )
    return response


def _signed_in_user(
    services: Services,
    client: OidcClient,
    flow: Flow,
    code: str | None,
    state: str | None,
    error: str | None,
    iss: str | None,
) -> User:
    if not state_matches(flow, state):
        raise SignInError("The sign-in's state does not match this browser's; start it again.")
    if error is not None:
        raise AccountRefusedError(f"{client.name} did not sign you in ({error_code(error)}).")
    if iss is not None and iss.rstrip("/") != client.issuer:
        raise SignInError("The answer names another issuer than the provider Iris sent you to.")
    if not code:
        raise SignInError(f"{client.name} sent no sign-in code.")
    account = client.sign_in(flow, code)
    try:
        return _local_user(services, client, account, flow.link_user_id)
    except IntegrityError as e:  # the same first sign-in twice at once: the other one won
        raise AccountConflictError("This sign-in raced another; start it again.") from e


def _local_user(
    services: Services, client: OidcClient, account: ProviderAccount, link_user_id: str | None
) -> User:
    """The Iris account of the provider's (issuer, subject): linked before, linked now to the
    signed-in user who asked, or new. A local account with the same e-mail is never taken."""
    now = utcnow()
    with services.db.session() as session:
        user = identities.linked_user(session, account.issuer, account.subject)
        if link_user_id is not None:
            if user is not None and user.id != link_user_id:
                raise AccountConflictError(
                    f"This {client.name} account is already linked to another Iris account."
                )
            user = users.user_by_id(session, link_user_id)
            if user is None:
                raise SignInError("Sign in again, then link.")
            identities.link(session, user.id, account.issuer, account.subject, now)
        elif user is None:
            user = _new_user(session, client, account, services.settings.oidc_create_accounts)
        if user.disabled:
            raise AccountRefusedError("This Iris account is disabled; ask an administrator.")
        if account.is_admin is not None:
            users.set_admin(session, user, account.is_admin)
        identities.note_sign_in(session, account.issuer, account.subject, now)
        return user


def _new_user(
    session: Session, client: OidcClient, account: ProviderAccount, allowed: bool
) -> User:
    if not allowed:
        raise AccountRefusedError(
            f"No Iris account is linked to this {client.name} account; ask an administrator."
        )
    if account.email is None:
        raise SignInError(
            f"{client.name} sent no e-mail address (the 'email' scope); ask its administrator."
        )
    try:
        return identities.create_linked_user(
            session, account.email, account.issuer, account.subject,
            is_admin=bool(account.is_admin), now=utcnow(),
        )
    except EmailTakenError as e:
        raise AccountConflictError(
            "An Iris account with your e-mail address already exists and is not linked to this "
            f"{client.name} account. Sign in with its password, then link {client.name} on the "
            "account page."
        ) from e
