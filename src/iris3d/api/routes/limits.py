"""What this server accepts, so the web app checks a choice before sending it."""

from __future__ import annotations

from fastapi import APIRouter

from iris3d.api.deps import CurrentUser, ServicesDep
from iris3d.api.schemas import LimitsPublic
from iris3d.contracts.formats import DETACHED_HEADER_SUFFIXES, UPLOAD_SUFFIXES

router = APIRouter(prefix="/limits", tags=["limits"])


@router.get("")
def get_limits(user: CurrentUser, services: ServicesDep) -> LimitsPublic:
    """The file types an upload takes and the largest study accepted."""
    del user  # signed-in users only, as for every other route
    return LimitsPublic(
        upload_suffixes=list(UPLOAD_SUFFIXES),
        detached_header_suffixes=list(DETACHED_HEADER_SUFFIXES),
        max_upload_bytes=services.settings.max_upload_bytes,
    )
