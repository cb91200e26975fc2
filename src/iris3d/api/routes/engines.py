"""Which segmentation engines this server can run, so the web app offers only those."""

from __future__ import annotations

from fastapi import APIRouter

from iris3d.api.deps import CurrentUser
from iris3d.api.schemas import EngineInfo, EnginesPublic
from iris3d.segment.base import Quality

router = APIRouter(prefix="/engines", tags=["engines"])

TISSUE_FINDS = ("the body outline, lungs, airways, skeleton, fat and muscle wall "
                "(from Hounsfield units; no organs)")
TOTALSEG_FINDS = "over 100 structures: organs, vessels, every bone and muscle"


def totalseg_qualities() -> list[Quality]:
    """The quality levels whose TotalSegmentator models are installed (none without the package)."""
    from iris3d.segment.totalseg.weights import installed_qualities

    return sorted(installed_qualities(), key=list(Quality).index)


def engines_now() -> EnginesPublic:
    qualities = totalseg_qualities()
    return EnginesPublic(items=[
        EngineInfo(name="auto", label="Automatic", available=True, qualities=list(Quality),
                   finds="TotalSegmentator where its models are installed, else the tissue engine"),
        EngineInfo(name="totalsegmentator", label="TotalSegmentator", available=bool(qualities),
                   qualities=qualities, finds=TOTALSEG_FINDS),
        EngineInfo(name="tissue", label="Built-in tissue engine", available=True,
                   qualities=list(Quality), finds=TISSUE_FINDS),
        EngineInfo(name="import", label="Your own segmentation", available=True,
                   qualities=list(Quality), finds="the structures of the label map you upload"),
    ])


@router.get("")
def list_engines(user: CurrentUser) -> EnginesPublic:
    """The engines and, for each, whether it can run here and at which quality levels."""
    del user  # signed-in users only: what a server has installed is not public
    return engines_now()
