"""Accounts at an OpenID provider, linked to local accounts by the provider's (issuer, subject).

An e-mail address never links anything: a provider may reassign one, and a local account with
the same address may belong to someone else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from iris3d.errors import IrisError
from iris3d.store import users
from iris3d.store.models import Identity, User


class IdentityTakenError(IrisError):
    """This account at the provider is already linked to another Iris account."""


def linked_user(session: Session, issuer: str, subject: str) -> User | None:
    query = (
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.issuer == issuer, Identity.subject == subject)
    )
    return session.scalar(query)


def link(session: Session, user_id: str, issuer: str, subject: str, now: datetime) -> Identity:
    """Link (issuer, subject) to ``user_id``; linking it again to the same account is a no-op."""
    identity = session.scalar(
        select(Identity).where(Identity.issuer == issuer, Identity.subject == subject)
    )
    if identity is not None:
        if identity.user_id != user_id:
            raise IdentityTakenError()
        return identity
    identity = Identity(
        user_id=user_id, issuer=issuer, subject=subject, created_at=now, last_signin_at=now
    )
    session.add(identity)
    session.flush()
    return identity


def note_sign_in(session: Session, issuer: str, subject: str, now: datetime) -> None:
    identity = session.scalar(
        select(Identity).where(Identity.issuer == issuer, Identity.subject == subject)
    )
    if identity is not None:
        identity.last_signin_at = now


def create_linked_user(
    session: Session, email: str, issuer: str, subject: str, *, is_admin: bool, now: datetime
) -> User:
    """A new account that signs in only through the provider (it has no password).

    Raises ``EmailTakenError`` when a local account has the address: it is not taken over."""
    user = users.create_user(session, email, users.NO_PASSWORD, is_admin=is_admin)
    link(session, user.id, issuer, subject, now)
    return user


def identities_of(session: Session, user_id: str) -> list[Identity]:
    query = select(Identity).where(Identity.user_id == user_id).order_by(Identity.created_at)
    return list(session.scalars(query))
