"""One settings object, read from ``IRIS_*`` environment variables, with working defaults."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "iris"


class Settings(BaseSettings):
    """Everything Iris can be configured with; each field is ``IRIS_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="IRIS_", env_file=None, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    max_voxels: int = Field(default=2**31, gt=0, description="Refuse volumes with more voxels.")
    max_unpacked_bytes: int = Field(
        default=8 * 2**30, gt=0, description="Refuse archives that unpack to more than this."
    )
    max_archive_members: int = Field(default=100_000, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    return Settings()
