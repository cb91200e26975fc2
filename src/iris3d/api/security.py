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


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), b"iris-download:" + payload.encode(), hashlib.sha256)
    return _b64(digest.digest())


def sign_link(secret: str, job_id: str, artifact: str, ttl_s: float) -> tuple[str, int]:
    """A token naming one artifact of one job until it expires; returns (token, expiry)."""
    expires = int(time.time() + ttl_s)
    payload = _b64(json.dumps([job_id, artifact, expires], separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}", expires


def verify_link(secret: str, token: str) -> LinkClaims:
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise BadLinkError()
    try:
        job_id, artifact, expires = json.loads(_unb64(payload))
    except (ValueError, TypeError) as e:
        raise BadLinkError() from e
    if not isinstance(expires, int) or expires < time.time():
        raise BadLinkError()
    return LinkClaims(str(job_id), str(artifact), expires)
