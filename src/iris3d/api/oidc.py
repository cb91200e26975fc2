"""OpenID Connect sign-in: discovery, the authorization code flow with PKCE, the ID token's checks.

authlib speaks OAuth 2 (authorization URL, code exchange with the PKCE verifier, user info);
joserfc checks the ID token's signature against the provider's JWKS and authlib's ``CodeIDToken``
its claims (issuer, audience, expiry, nonce, azp, at_hash). Nothing here logs a token or a claim.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, cast

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet, KeySetSerialization

from iris3d.api.oidc_flow import (
    Flow,
    ProviderUnavailableError,
    SignInError,
    TokenRefusedError,
)
from iris3d.settings import Settings

MAX_EMAIL = 320  # the users table's column
LEEWAY_S = 60  # clocks of the provider and of Iris may disagree this much
DISCOVERY_TTL_S = 3600.0
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
               "EdDSA")
_CLAIM_PROBLEMS = {
    "aud": "it was issued for another client (wrong audience)",
    "iss": "it comes from another issuer",
    "nonce": "its nonce is not this sign-in's",
    "azp": "it was issued for another client (azp)",
    "at_hash": "it does not belong to the access token",
    "sub": "it names no subject (or one over 255 characters)",
}


@dataclass(frozen=True)
class ProviderAccount:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None
    is_admin: bool | None  # None: the settings name no administrator claim


def _subject_fits(_claims: object, subject: object) -> bool:
    return isinstance(subject, str) and 0 < len(subject) <= 255


def error_code(text: str) -> str:
    """An OAuth error code as Iris repeats it: the code's letters only (a provider's free text,
    such as ``error_description``, is never shown or logged)."""
    return re.sub(r"[^a-z_]", "", text.lower())[:40] or "error"


def _problem(error: JoseError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "it has expired"
    if isinstance(error, BadSignatureError | InvalidKeyIdError):
        return "its signature is not the provider's"
    if isinstance(error, MissingClaimError):
        return f"it lacks the {error.claim!r} claim"
    if isinstance(error, ClaimError):
        return _CLAIM_PROBLEMS.get(error.claim, f"its {error.claim!r} claim is wrong")
    return "it is not a valid signed token"


def is_admin_by_claims(claims: dict[str, Any], name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    found = claims.get(name)
    if isinstance(found, list):
        return value in found
    return found == value


class OidcClient:
    """One configured provider; its discovery document and keys are cached."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.name = settings.oidc_display_name
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx2.get(url, timeout=10, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        except (httpx2.HTTPError, ValueError) as e:
            raise ProviderUnavailableError(
                f"{self.name} cannot be reached ({url} failed); try again later."
            ) from e
        if not isinstance(document, dict):
            raise ProviderUnavailableError(f"{self.name} answered {url} with no JSON object.")
        return document

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > DISCOVERY_TTL_S:
            url = f"{self.issuer}/.well-known/openid-configuration"
            document = self._get_json(url)
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise ProviderUnavailableError(
                    f"{url} names another issuer than IRIS_OIDC_ISSUER; check the setting."
                )
            for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(needed), str):
                    raise ProviderUnavailableError(f"{url} has no {needed}.")
            self._metadata, self._metadata_at = document, time.monotonic()
        return self._metadata

    def _session(self, flow: Flow) -> OAuth2Client:
        secret = self.settings.oidc_client_secret
        return OAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=self.settings.oidc_scopes,
            redirect_uri=flow.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    def authorization_url(self, flow: Flow) -> str:
        endpoint = self.metadata()["authorization_endpoint"]
        with self._session(flow) as session:
            url, _ = session.create_authorization_url(
                endpoint, state=flow.state, nonce=flow.nonce, code_verifier=flow.verifier
            )
        return str(url)

    def sign_in(self, flow: Flow, code: str) -> ProviderAccount:
        """Exchange the code (with the PKCE verifier), check the ID token, read the user info."""
        metadata = self.metadata()
        with self._session(flow) as session:
            try:
                token = session.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=flow.verifier,
                    grant_type="authorization_code",
                )
            except OAuthError as e:
                raise SignInError(
                    f"{self.name} refused the sign-in code ({error_code(str(e.error))})."
                ) from e
            except httpx2.HTTPError as e:
                raise ProviderUnavailableError() from e
            if not isinstance(token.get("id_token"), str):
                raise TokenRefusedError(f"{self.name} sent no ID token.")
            claims = self._checked_claims(token["id_token"], token.get("access_token"), flow)
            claims = {**claims, **self._user_info(session, metadata, claims["sub"])}
        email = claims.get("email")
        usable = isinstance(email, str) and "@" in email and len(email) <= MAX_EMAIL
        return ProviderAccount(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=email if usable else None,
            is_admin=is_admin_by_claims(
                claims, self.settings.oidc_admin_claim, self.settings.oidc_admin_value
            ),
        )

    def _key_set(self, *, fresh: bool) -> KeySet:
        if self._keys is None or fresh:
            try:
                document = self._get_json(self.metadata()["jwks_uri"])
                self._keys = KeySet.import_key_set(cast(KeySetSerialization, document))
            except (JoseError, ValueError, TypeError) as e:
                raise ProviderUnavailableError(f"{self.name}'s keys (JWKS) are unusable.") from e
        return self._keys

    def _checked_claims(self, id_token: str, access_token: str | None, flow: Flow) -> Any:
        supported = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in _ASYMMETRIC if a in supported]
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(fresh=False), algorithms=algorithms)
            except InvalidKeyIdError:  # the provider rotated its keys since they were cached
                decoded = jwt.decode(id_token, self._key_set(fresh=True), algorithms=algorithms)
            params = {"nonce": flow.nonce, "client_id": self.settings.oidc_client_id}
            if access_token:
                params["access_token"] = access_token
            options = {
                "iss": {"essential": True, "value": self.metadata()["issuer"]},
                "aud": {"essential": True, "value": self.settings.oidc_client_id},
                # OpenID Connect Core 2: at most 255 ASCII characters, as the table keeps it.
                "sub": {"essential": True, "validate": _subject_fits},
            }
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(leeway=LEEWAY_S)
        except JoseError as e:
            raise TokenRefusedError(
                f"{self.name}'s ID token was refused: {_problem(e)}."
            ) from e
        return claims

    def _user_info(
        self, session: OAuth2Client, metadata: dict[str, Any], subject: str
    ) -> dict[str, Any]:
        """Claims a provider keeps out of the ID token (e-mail, groups) come from user info;
        they count only if they are about the same subject."""
        endpoint = metadata.get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        try:
            response = session.get(endpoint)
            response.raise_for_status()
            info = response.json()
        except (httpx2.HTTPError, ValueError) as e:
            raise ProviderUnavailableError(f"{self.name}'s user info cannot be read.") from e
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise TokenRefusedError(f"{self.name}'s user info is about another subject.")
        return info
