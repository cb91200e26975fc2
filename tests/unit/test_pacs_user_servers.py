"""Who decides where Iris connects for a user's PACS: on in development, an administrator's choice
in production (a user's server can be any machine on Iris's own network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from iris3d.api.pacs import check_user_server
from iris3d.settings import Settings

SECRET = "Pq8Lm3Zx7Nc2Vb6Kj4Hg9Fd5Sa1Qw8Er3Ty7Ui2Op6As"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=SECRET, **values)  # type: ignore[arg-type]


def test_production_refuses_users_servers_unless_an_administrator_allows_them(
    tmp_path: Path,
) -> None:
    production = _settings(tmp_path, env="production")
    with pytest.raises(HTTPException) as refused:
        check_user_server("http://127.0.0.1:6379/dicom-web", production)
    assert refused.value.status_code == 403
    allowed = _settings(tmp_path, env="production", pacs_user_servers=True)
    check_user_server("http://127.0.0.1:8042/dicom-web", allowed)


def test_development_allows_them_unless_turned_off(tmp_path: Path) -> None:
    check_user_server("http://127.0.0.1:8042/dicom-web", _settings(tmp_path))
    with pytest.raises(HTTPException):
        check_user_server("http://127.0.0.1:8042/dicom-web",
                          _settings(tmp_path, pacs_user_servers=False))


def test_link_local_is_never_a_pacs(tmp_path: Path) -> None:
    with pytest.raises(HTTPException) as refused:
        check_user_server("http://169.254.169.254/latest", _settings(tmp_path))
    assert refused.value.status_code == 422
