"""Accounts and their sign-in tokens."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from iris3d.errors import IrisError
from iris3d.store.models import AuthToken, Invite, TokenKind, User


class EmailTakenError(IrisError):
    """An account with this email address already exists."""


NO_PASSWORD = "!"
"""The password hash of an account that signs in only through an OpenID provider: no password
matches it (it is not an argon2 hash)."""


def has_password(user: User) -> bool:
    return user.password_hash != NO_PASSWORD


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


def lock_account(session: Session, user_id: str) -> None:
    """Serialise this account's writers until the transaction ends (PostgreSQL: a row lock;
    SQLite's writing transactions hold the database's write lock already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(User.id).where(User.id == user_id).with_for_update())


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


def add_token(
    session: Session,
    user_id: str,
    token_hash: str,
    expires_at: datetime,
    *,
    kind: TokenKind = TokenKind.SESSION,
    name: str = "",
) -> AuthToken:
    token = AuthToken(
        user_id=user_id, token_hash=token_hash, expires_at=expires_at, kind=kind.value, name=name
    )
    session.add(token)
    session.flush()
    return token


SIGN_IN_KINDS = (TokenKind.SESSION, TokenKind.API)


def user_for_token(
    session: Session,
    token_hash: str,
    now: datetime,
    idle_s: float | None = None,
    kinds: Collection[TokenKind] = SIGN_IN_KINDS,
) -> User | None:
    """The enabled user a live token of one of ``kinds`` belongs to; expired tokens, sessions
    idle for more than ``idle_s`` and disabled accounts' tokens count as absent (a receive
    token signs nobody in: it is not among the default kinds)."""
    query = (
        select(User)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(
            AuthToken.token_hash == token_hash,
            AuthToken.expires_at > now,
            AuthToken.kind.in_([kind.value for kind in kinds]),
            User.disabled.is_(False),
        )
    )
    if idle_s is not None:
        idle_before = now - timedelta(seconds=idle_s)
        used = func.coalesce(AuthToken.last_used_at, AuthToken.created_at)
        query = query.where(or_(AuthToken.kind != TokenKind.SESSION.value, used > idle_before))
    return session.scalar(query)


def touch_token(session: Session, token_hash: str, now: datetime, every_s: float) -> None:
    """Note the token's use, at most once per ``every_s`` (so reads stay reads)."""
    stale = now - timedelta(seconds=every_s)
    session.execute(
        update(AuthToken)
        .where(
            AuthToken.token_hash == token_hash,
            or_(AuthToken.last_used_at.is_(None), AuthToken.last_used_at < stale),
        )
        .values(last_used_at=now)
    )


def token_by_hash(session: Session, token_hash: str) -> AuthToken | None:
    return session.scalar(select(AuthToken).where(AuthToken.token_hash == token_hash))


def list_tokens(session: Session, user_id: str, now: datetime) -> list[AuthToken]:
    query = (
        select(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.expires_at > now)
        .order_by(AuthToken.created_at, AuthToken.id)
    )
    return list(session.scalars(query))


def count_tokens(session: Session, user_id: str, kind: TokenKind) -> int:
    query = select(func.count()).where(AuthToken.user_id == user_id, AuthToken.kind == kind.value)
    return int(session.scalar(query) or 0)


def remove_token_by_id(session: Session, user_id: str, token_id: str) -> bool:
    result = session.execute(
        delete(AuthToken).where(AuthToken.user_id == user_id, AuthToken.id == token_id)
    )
    return bool(getattr(result, "rowcount", 0))


def remove_tokens(session: Session, user_id: str, *, keep_hash: str | None = None) -> int:
    """End every session and API token of the account (but ``keep_hash``'s)."""
    query = delete(AuthToken).where(AuthToken.user_id == user_id)
    if keep_hash is not None:
        query = query.where(AuthToken.token_hash != keep_hash)
    return int(getattr(session.execute(query), "rowcount", 0) or 0)


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    user.disabled = disabled
    if disabled:
        remove_tokens(session, user.id)


def set_limits(session: Session, user: User, limits: dict[str, int | None]) -> None:
    """Override the account's quotas; ``None`` returns one to the default."""
    merged = {**user.limits, **limits}
    user.limits = {name: value for name, value in merged.items() if value is not None}


class InviteInvalidError(IrisError):
    """This invite code is unknown, used or expired."""


def add_invite(
    session: Session, code_hash: str, created_by: str | None, expires_at: datetime
) -> Invite:
    invite = Invite(code_hash=code_hash, created_by=created_by, expires_at=expires_at)
    session.add(invite)
    session.flush()
    return invite


def use_invite(session: Session, code_hash: str, user_id: str, now: datetime) -> None:
    """Spend the invite on ``user_id``; a conditional update, so one code makes one account."""
    result = session.execute(
        update(Invite)
        .where(Invite.code_hash == code_hash, Invite.used_by.is_(None), Invite.expires_at > now)
        .values(used_by=user_id)
    )
    if not getattr(result, "rowcount", 0):
        raise InviteInvalidError()


def remove_token(session: Session, token_hash: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash))


def remove_expired_tokens(session: Session, now: datetime) -> int:
    result = session.execute(delete(AuthToken).where(AuthToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
