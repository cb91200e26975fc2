"""What the account, token, invite and quota routes send and receive."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from iris3d.api.schemas import Credentials, UserPublic
from iris3d.store.models import TokenKind


class QuotaName(StrEnum):
    """The per-user limits (defaults: ``IRIS_QUOTA_<NAME>``)."""

    STORED_BYTES = "stored_bytes"
    STUDIES = "studies"
    OPEN_UPLOADS = "open_uploads"
    UPLOAD_BYTES = "upload_bytes"
    QUEUED_JOBS = "queued_jobs"


class Registration(Credentials):
    invite: str | None = Field(
        default=None, max_length=200, description="An invite code, when sign-up needs one."
    )


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Default: IRIS_API_TOKEN_TTL_S."
    )


class TokenPublic(BaseModel):
    """A session or API token; never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: TokenKind
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool = Field(default=False, description="The token this request came with.")


class TokensPublic(BaseModel):
    items: list[TokenPublic]


class TokenCreated(BaseModel):
    token: TokenPublic
    secret: str = Field(description="Shown once: send it as `Authorization: Bearer ...`.")


class Ended(BaseModel):
    ended: int = Field(description="Sessions and tokens ended.")


class Quota(BaseModel):
    name: QuotaName
    limit: int
    used: int


class QuotasPublic(BaseModel):
    items: list[Quota]


class UserUpdate(BaseModel):
    """What an administrator may change on an account."""

    disabled: bool | None = None
    limits: dict[QuotaName, Annotated[int, Field(ge=0)] | None] | None = Field(
        default=None, description="Per-user quotas; null returns one to the default."
    )


class UserDetail(UserPublic):
    limits: dict[str, int]


class InviteCreate(BaseModel):
    expires_in_days: int = Field(default=7, ge=1, le=90)


class InviteCreated(BaseModel):
    code: str = Field(description="Shown once; the new user sends it as `invite`.")
    expires_at: datetime


class SignInProvider(BaseModel):
    """A way to sign in besides e-mail and password: the web app shows "Sign in with <name>"."""

    kind: Literal["oidc"] = "oidc"
    name: str = Field(description="The identity provider's name, as the button shows it.")
    login_url: str = Field(description="Where the browser goes to sign in (a redirect).")
    link_url: str = Field(description="The same, for a signed-in user linking their account.")
