"""One sign-in's flow with the identity provider, kept in a signed cookie, and its errors.

State, nonce and PKCE verifier must survive the trip to the provider and back; they ride in a
signed, ten-minute token (joserfc, HS256 with a key derived from IRIS_SECRET_KEY) rather than in
server memory, so any API process can take the callback.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from authlib.common.security import generate_token
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from iris3d.errors import IrisError

FLOW_TTL_S = 600


class SignInError(IrisError):
    """The sign-in with the identity provider failed."""

    status = 400


class ProviderUnavailableError(SignInError):
    """The identity provider cannot be reached; try again later."""

    status = 502


class TokenRefusedError(SignInError):
    """The identity provider's ID token was refused."""

    status = 401


class AccountRefusedError(SignInError):
    """This account may not sign in here."""

    status = 403


class AccountConflictError(SignInError):
    """This account at the provider cannot be linked to an Iris account."""

    status = 409


@dataclass(frozen=True)
class Flow:
    """What one sign-in must remember between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    link_user_id: str | None = None  # set when a signed-in user links their provider account


def new_flow(redirect_uri: str, link_user_id: str | None = None) -> Flow:
    return Flow(generate_token(32), generate_token(32), generate_token(64), redirect_uri,
                link_user_id)


def _flow_key(secret_key: str) -> OctKey:
    # A key of its own, so that nothing else signed with IRIS_SECRET_KEY passes as a flow.
    derived = hmac.new(secret_key.encode(), b"iris-oidc-flow", hashlib.sha256).digest()
    return OctKey.import_key(derived)


def seal_flow(secret_key: str, flow: Flow) -> str:
    """The flow as a signed, short-lived token for a cookie."""
    claims = {"aud": "iris-oidc-flow", "exp": int(time.time()) + FLOW_TTL_S, **flow.__dict__}
    return jwt.encode({"alg": "HS256"}, claims, _flow_key(secret_key))


def open_flow(secret_key: str, sealed: str | None) -> Flow:
    expired = SignInError("This sign-in expired or began in another browser; start it again.")
    if not sealed:
        raise expired
    try:
        token = jwt.decode(sealed, _flow_key(secret_key), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(
            aud={"essential": True, "value": "iris-oidc-flow"}, exp={"essential": True}
        ).validate(token.claims)
        fields = {name: token.claims[name] for name in ("state", "nonce", "verifier",
                                                       "redirect_uri", "link_user_id")}
        return Flow(**fields)
    except (JoseError, KeyError, TypeError, ValueError) as e:
        raise expired from e


def state_matches(flow: Flow, state: str | None) -> bool:
    return state is not None and hmac.compare_digest(flow.state.encode(), state.encode())
