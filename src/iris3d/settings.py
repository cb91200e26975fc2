"""One settings object, read from ``IRIS_*`` environment variables, with working defaults."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from iris3d.contracts import Quality


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "iris"


SignupMode = Literal["open", "invite", "closed"]

# Placeholders seen in example files: refused as secrets anywhere but development.
_PLACEHOLDER_WORDS = ("change-me", "changeme", "placeholder", "secret-key", "replace-me")
_WEAK_PASSWORDS = {"iris", "postgres", "password", "secret", "admin", "minioadmin"}


def _is_placeholder(secret: str) -> bool:
    lowered = secret.lower()
    return lowered in _WEAK_PASSWORDS or any(word in lowered for word in _PLACEHOLDER_WORDS)


PacsAuth = Literal["none", "basic", "bearer"]


class PacsServerConfig(BaseModel):
    """A DICOMweb server (PACS): its base address (the one that ends before ``/studies``) and
    how Iris signs in to it: ``secret`` is the password for basic, the token for bearer."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=500, pattern=r"^https?://[^\s]+$")
    auth: PacsAuth = "none"
    username: str | None = Field(default=None, max_length=200)
    secret: str | None = Field(default=None, max_length=4000)

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, url: str) -> str:
        authority = url.split("://", 1)[1].split("/", 1)[0]
        if "@" in authority:
            raise ValueError("put the PACS's user and password in username/secret, not the address")
        return url

    @model_validator(mode="after")
    def _credentials_fit_auth(self) -> "PacsServerConfig":
        if self.auth == "basic" and not (self.username and self.secret):
            raise ValueError(f"PACS {self.name!r}: basic authentication needs username and secret")
        if self.auth == "bearer" and not self.secret:
            raise ValueError(f"PACS {self.name!r}: bearer authentication needs secret (the token)")
        return self


# Signs download links in development only; refused anywhere else (see the validator).
DEVELOPMENT_SECRET_KEY = "iris-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    """Everything Iris can be configured with; each field is ``IRIS_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="IRIS_", env_file=None, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    max_voxels: int = Field(default=2**31, gt=0, description="Refuse volumes with more voxels.")
    max_unpacked_bytes: int = Field(
        default=8 * 2**30, gt=0, description="Refuse archives that unpack to more than this."
    )
    max_archive_members: int = Field(default=100_000, gt=0)
    totalseg_precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto",
        description="TotalSegmentator's network arithmetic: auto is nnU-Net's (its labels); "
        "bf16 is faster on CPUs with AVX512-BF16 and GPUs, labels may differ at ties.",
    )
    totalseg_cpu_runtime: Literal["auto", "torch", "openvino"] = Field(
        default="auto",
        description="What runs TotalSegmentator's network on a CPU: auto is OpenVINO (about 0.7x "
        "the time, fp32 scores within rounding) where installed; torch gives nnU-Net's labels.",
    )

    # --- the service (``iris serve``); defaults need no external service ---
    env: str = Field(default="development", description="development, test or production.")
    secret_key: str = Field(
        default=DEVELOPMENT_SECRET_KEY, description="Signs links; must be set outside development."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite (WAL) in data_dir/iris.db."
    )
    storage_url: str | None = Field(
        default=None, description="Where files live; default the folder data_dir/storage."
    )
    queue_url: str | None = Field(
        default=None, description="Job queue; default: workers claim jobs from the database."
    )
    s3_endpoint_url: str | None = Field(default=None, description="S3 server; default AWS.")
    s3_public_endpoint_url: str | None = Field(
        default=None, description="S3 address in download links, if browsers see another."
    )
    s3_region: str | None = Field(default=None, description="S3 region; default us-east-1.")
    s3_access_key_id: str | None = Field(default=None, description="Default: boto3's chain.")
    s3_secret_access_key: str | None = Field(default=None)
    worker_queues: str | None = Field(
        default=None, description="Celery queues a worker takes, comma-separated; default all."
    )
    max_upload_bytes: int = Field(default=2 * 2**30, gt=0, description="Largest study accepted.")
    upload_chunk_bytes: int = Field(default=64 * 2**20, gt=0, description="Largest upload chunk.")
    upload_expiry_s: float = Field(default=24 * 3600.0, gt=0, description="Unfinished uploads.")
    session_ttl_s: float = Field(default=14 * 24 * 3600.0, gt=0)
    signed_url_ttl_s: float = Field(default=300.0, gt=0, description="Life of a download link.")
    signin_attempts: int = Field(default=10, gt=0, description="Sign-ins per window and address.")
    signin_window_s: float = Field(default=300.0, gt=0)
    cookie_secure: bool | None = Field(default=None, description="Default: on outside development.")
    workers: int = Field(default=1, ge=0, description="Worker processes `iris serve` starts.")
    worker_totalseg_qualities: list[Quality] | None = Field(
        default=None,
        description="TotalSegmentator quality levels the workers have installed, when they run on "
        "other machines than the API (a JSON list); unset: the levels installed on this machine.",
    )
    job_max_attempts: int = Field(default=3, gt=0, description="Tries before a job fails.")
    worker_heartbeat_s: float = Field(default=5.0, gt=0)
    worker_stale_s: float = Field(default=60.0, gt=0, description="Silent this long: requeued.")
    worker_poll_s: float = Field(default=1.0, gt=0, description="Idle workers look this often.")
    progress_interval_s: float = Field(default=0.25, gt=0, description="Progress saved this often.")
    sse_poll_s: float = Field(default=0.25, gt=0, description="Event streams look this often.")
    ingest_concurrency: int = Field(default=2, gt=0, description="Uploads checked at once.")
    ingest_memory_bytes: int = Field(
        default=8 * 2**30, gt=0, description="Memory one upload's check may use (its own process)."
    )
    ingest_cpu_seconds: int = Field(
        default=300, gt=0, description="CPU time one upload's check may use (its own process)."
    )
    web_dir: Path | None = Field(
        default=None, description="Built web app served at /; unset: the repository's web/dist."
    )

    # --- hostile users: accounts, limits, quotas, HTTP hardening (docs/security.md) ---
    signup_mode: SignupMode = Field(
        default="open", description="open, invite (an admin's invite code) or closed."
    )
    signup_per_client: int = Field(default=5, gt=0, description="Sign-ups per hour per client.")
    signup_per_hour: int = Field(default=100, gt=0, description="Sign-ups per hour in all.")
    signin_client_attempts: int = Field(
        default=50, gt=0, description="Failed sign-ins per window from one client, any account."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses/networks of reverse proxies whose X-Forwarded-For is believed.",
    )
    session_idle_s: float = Field(default=8 * 3600.0, gt=0, description="Idle sessions end.")
    api_token_ttl_s: float = Field(default=90 * 24 * 3600.0, gt=0, description="API tokens.")
    event_streams_per_user: int = Field(default=8, gt=0, description="Open SSE streams.")
    previous_secret_key: str | None = Field(
        default=None, description="The key before a rotation; its links live out their TTL."
    )
    metrics_token: str | None = Field(
        default=None, description="Bearer token for /metrics; unset: off outside development."
    )
    api_docs: bool | None = Field(default=None, description="/docs; default: development only.")
    quota_stored_bytes: int = Field(default=50 * 2**30, gt=0, description="Per user, studies.")
    quota_studies: int = Field(default=200, gt=0, description="Studies per user.")
    quota_open_uploads: int = Field(default=4, gt=0, description="Unfinished uploads per user.")
    quota_upload_bytes: int = Field(
        default=8 * 2**30, gt=0, description="Bytes reserved by a user's unfinished uploads."
    )
    s3_presign: bool = Field(
        default=True,
        description="Downloads redirect to presigned S3 URLs; off: the API streams them (use "
        "when browsers cannot reach the store).",
    )
    quota_queued_jobs: int = Field(default=20, gt=0, description="Queued or running, per user.")

    # --- sign-in with the institution: OpenID Connect (docs/interop.md); off without an issuer ---
    oidc_issuer: str | None = Field(
        default=None,
        max_length=500,
        description="The OpenID provider's issuer URL; unset: no OIDC sign-in.",
    )
    oidc_client_id: str | None = Field(default=None, description="Iris's client id there.")
    oidc_client_secret: str | None = Field(
        default=None, description="Its secret (unset: a public client, PKCE only)."
    )
    oidc_display_name: str = Field(
        default="your institution", max_length=60, description="Shown as 'Sign in with <name>'."
    )
    oidc_scopes: str = Field(default="openid email profile", description="Space-separated.")
    oidc_admin_claim: str = Field(
        default="groups", description="The claim that makes an administrator (see the next)."
    )
    oidc_admin_value: str | None = Field(
        default=None,
        description="Administrator when the claim equals or lists this value, at each sign-in; "
        "unset: the provider does not decide who is an administrator.",
    )
    oidc_create_accounts: bool = Field(
        default=True,
        description="A first sign-in makes an account (whatever IRIS_SIGNUP_MODE: the provider "
        "decides who may sign in); off: only accounts already linked may sign in.",
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="The callback URL registered at the provider; default: this server's "
        "/api/auth/oidc/callback as the browser addresses it.",
    )

    # --- PACS (DICOMweb) servers: the site's, for every user; users may add their own ---
    pacs_servers: list[PacsServerConfig] = Field(
        default_factory=list,
        description='DICOMweb servers for everyone, a JSON list of {"name", "url", "auth": '
        '"none"|"basic"|"bearer", "username", "secret"}.',
    )
    pacs_user_servers: bool | None = Field(
        default=None,
        description="Users may add their own PACS servers (Iris then connects where they say, "
        "its own network included); off: only IRIS_PACS_SERVERS. Unset: on in development, off "
        "in production, where an administrator turns it on knowingly.",
    )
    pacs_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds to connect to a PACS or wait for its next bytes."
    )
    pacs_send_interval_s: float = Field(
        default=5.0, gt=0, description="How often the API looks for finished jobs whose results "
        "go back to a PACS (series pulled with send_results)."
    )

    @property
    def users_add_pacs(self) -> bool:
        """Whether users may add PACS servers of their own (see ``pacs_user_servers``)."""
        if self.pacs_user_servers is not None:
            return self.pacs_user_servers
        return self.env != "production"

    @field_validator("pacs_servers")
    @classmethod
    def _pacs_names_are_unique(cls, servers: list[PacsServerConfig]) -> list[PacsServerConfig]:
        names = [server.name for server in servers]
        if len(set(names)) != len(names):
            raise ValueError("IRIS_PACS_SERVERS: each server needs its own name")
        return servers

    # --- PACS routing studies to Iris (docs/interop.md) ---
    dicom_ae_title: str = Field(
        default="IRIS", min_length=1, max_length=16, description="The C-STORE receiver's AE title."
    )
    dicom_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Port of the C-STORE receiver; unset: no receiver (`iris serve` starts one "
        "when set).",
    )
    dicom_host: str = Field(default="0.0.0.0", description="Address the receiver listens on.")
    dicom_ae_routes: dict[str, str] = Field(
        default_factory=dict,
        description="Who owns what arrives by C-STORE (a JSON object): 'called:AE' or "
        "'calling:AE' to an account's e-mail; the called AE is looked up first.",
    )
    dicom_quiet_seconds: float = Field(
        default=60.0, gt=0, description="A received study is processed after this long silent."
    )

    @field_validator("dicom_ae_routes")
    @classmethod
    def _routes_are_named(cls, routes: dict[str, str]) -> dict[str, str]:
        for key in routes:
            kind, _, title = key.partition(":")
            if kind not in ("called", "calling") or not 0 < len(title.strip()) <= 16:
                raise ValueError(
                    f"IRIS_DICOM_AE_ROUTES: {key!r} must be 'called:AE' or 'calling:AE' "
                    "(an AE title of 1 to 16 characters)"
                )
        return routes

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError as e:
                raise ValueError(
                    f"IRIS_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from e
        return proxies

    @model_validator(mode="after")
    def _oidc_complete(self) -> "Settings":
        if self.oidc_issuer is None:
            return self
        address = urlsplit(self.oidc_issuer)
        loopback = address.hostname in ("localhost", "127.0.0.1", "::1")
        if address.scheme != "https" and not (address.scheme == "http" and loopback):
            raise ValueError("IRIS_OIDC_ISSUER must be an https:// URL (http only on loopback)")
        if not self.oidc_client_id:
            raise ValueError("IRIS_OIDC_CLIENT_ID is needed when IRIS_OIDC_ISSUER is set")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("IRIS_OIDC_SCOPES must include openid")
        return self

    @model_validator(mode="after")
    def _refuse_development_secret(self) -> "Settings":
        if self.env != "development" and (
            self.secret_key == DEVELOPMENT_SECRET_KEY
            or len(self.secret_key) < 32
            or _is_placeholder(self.secret_key)
        ):
            raise ValueError(
                f"IRIS_SECRET_KEY must be a random string of 32+ characters when IRIS_ENV="
                f"{self.env}; make one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'"
            )
        if self.env != "development":
            self._refuse_placeholder_secrets()
        return self

    def _refuse_placeholder_secrets(self) -> None:
        """Example values from compose files or docs must never reach production."""
        secrets = {
            "IRIS_PREVIOUS_SECRET_KEY": self.previous_secret_key,
            "IRIS_METRICS_TOKEN": self.metrics_token,
            "IRIS_S3_SECRET_ACCESS_KEY": self.s3_secret_access_key,
            "IRIS_OIDC_CLIENT_SECRET": self.oidc_client_secret,
            "the password in IRIS_DATABASE_URL": _url_password(self.database_url),
        }
        for name, value in secrets.items():
            if value and _is_placeholder(value):
                raise ValueError(f"{name} is an example value; set a real secret")
        if self.metrics_token is not None and len(self.metrics_token) < 32:
            raise ValueError("IRIS_METRICS_TOKEN must be 32+ random characters")


def _url_password(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    authority = url.split("://", 1)[1].split("/", 1)[0]
    if "@" not in authority:
        return None
    userinfo = authority.rsplit("@", 1)[0]
    return unquote(userinfo.split(":", 1)[1]) if ":" in userinfo else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    return Settings()
