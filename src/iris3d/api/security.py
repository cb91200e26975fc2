"""Passwords, session tokens and signed download links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from iris3d.errors import IrisError
from iris3d.settings import Settings


class BadLinkError(IrisError):
    """This download link is invalid or has expired."""


class Passwords:
    """argon2id hashes; checking an unknown account costs the same as checking a known one."""

    def __init__(self) -> None:
        # OWASP's argon2id baseline (19 MiB, 2 passes): ~40 ms here, so sign-in stays cheap for
        # the server while guessing stays expensive; old hashes still verify if this changes.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; with no account (``None``) a dummy hash is checked so
        the answer takes as long either way."""
        try:
            ok = self._hasher.verify(stored_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are 256 random bits, so a fast hash is enough; only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LinkClaims:
    job_id: str
    artifact: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, key_id: str, payload: str) -> str:
    message = f"iris-download:{key_id}:{payload}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def key_id(secret: str) -> str:
    """A short public name for a key (an HMAC of a constant: it tells nothing of the key)."""
    return _b64(hmac.new(secret.encode(), b"iris-key-id", hashlib.sha256).digest())[:8]


@dataclass(frozen=True)
class LinkKeys:
    """The key that signs links, and the one before a rotation: accepted (for links it signed)
    until ``previous_until`` (wall-clock seconds), one link lifetime after this process began."""

    current: str
    previous: str | None = None
    previous_until: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkKeys:
        return cls(
            current=settings.secret_key,
            previous=settings.previous_secret_key,
            previous_until=time.time() + settings.signed_url_ttl_s,
        )

    def for_id(self, wanted: str) -> str | None:
        if hmac.compare_digest(wanted.encode(), key_id(self.current).encode()):
            return self.current
        previous = self.previous if time.time() < self.previous_until else None
        if previous and hmac.compare_digest(wanted.encode(), key_id(previous).encode()):
            return previous
        return None


def sign_link(keys: LinkKeys, job_id: str, artifact: str, ttl_s: float) -> tuple[str, int]:
    """A token naming one artifact of one job until it expires; returns (token, expiry).

    ``<key id>.<payload>.<signature>``: the key id lets a rotated key's links still verify."""
    expires = int(time.time() + ttl_s)
    payload = _b64(json.dumps([job_id, artifact, expires], separators=(",", ":")).encode())
    kid = key_id(keys.current)
    return f"{kid}.{payload}.{_signature(keys.current, kid, payload)}", expires


def verify_link(keys: LinkKeys, token: str) -> LinkClaims:
    kid, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    secret = keys.for_id(kid)
    if secret is None:
        raise BadLinkError()
    if not hmac.compare_digest(signature.encode(), _signature(secret, kid, payload).encode()):
        raise BadLinkError()
    try:
        job_id, artifact, expires = json.loads(_unb64(payload))
    except (ValueError, TypeError) as e:
        raise BadLinkError() from e
    if not isinstance(expires, int) or expires < time.time():
        raise BadLinkError()
    return LinkClaims(str(job_id), str(artifact), expires)
