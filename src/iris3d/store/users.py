"""Accounts and their sign-in tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from iris3d.errors import IrisError
from iris3d.store.models import AuthToken, User


class EmailTakenError(IrisError):
    """An account with this email address already exists."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, email: str, password_hash: str, *, is_admin: bool) -> User:
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTakenError()
    user = User(email=email, password_hash=password_hash, is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def user_by_id(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session, *, offset: int = 0, limit: int = 100) -> list[User]:
    query = select(User).order_by(User.created_at, User.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def set_admin(session: Session, user: User, is_admin: bool) -> None:
    user.is_admin = is_admin


def set_password_hash(session: Session, user: User, password_hash: str) -> None:
    user.password_hash = password_hash


def add_token(session: Session, user_id: str, token_hash: str, expires_at: datetime) -> AuthToken:
    token = AuthToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at)
    session.add(token)
    session.flush()
    return token


def user_for_token(session: Session, token_hash: str, now: datetime) -> User | None:
    """The user a live token belongs to; expired tokens count as absent."""
    query = (
        select(User)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(AuthToken.token_hash == token_hash, AuthToken.expires_at > now)
    )
    return session.scalar(query)


def remove_token(session: Session, token_hash: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash))


def remove_expired_tokens(session: Session, now: datetime) -> int:
    result = session.execute(delete(AuthToken).where(AuthToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
