"""Which segmentation engines this server can run, so the web app offers only those."""

from __future__ import annotations

from fastapi import APIRouter

from iris3d.api.deps import CurrentUser, ServicesDep
from iris3d.api.schemas import EngineInfo, EnginesPublic
from iris3d.contracts import EngineName, Quality
from iris3d.settings import Settings

router = APIRouter(prefix="/engines", tags=["engines"])

TISSUE_FINDS = ("the body outline, lungs, airways, skeleton, fat and muscle wall "
                "(from Hounsfield units; no organs)")
TOTALSEG_FINDS = "over 100 structures: organs, vessels, every bone and muscle"


def totalseg_qualities(settings: Settings) -> list[Quality]:
    """The quality levels whose TotalSegmentator models the workers have: as the settings say
    when the workers run elsewhere (the API's machine need not hold the models), else those
    installed here (none without the package)."""
    if settings.worker_totalseg_qualities is not None:
        levels = set(settings.worker_totalseg_qualities)
    else:
        from iris3d.segment.totalseg.weights import installed_qualities

        levels = installed_qualities()
    return sorted(levels, key=list(Quality).index)


def engines_now(settings: Settings) -> EnginesPublic:
    qualities = totalseg_qualities(settings)
    return EnginesPublic(items=[
        EngineInfo(name=EngineName.AUTO, label="Automatic", available=True, qualities=list(Quality),
                   finds="TotalSegmentator where its models are installed, else the tissue engine"),
        EngineInfo(name=EngineName.TOTALSEGMENTATOR, label="TotalSegmentator",
                   available=bool(qualities), qualities=qualities, finds=TOTALSEG_FINDS),
        EngineInfo(name=EngineName.TISSUE, label="Built-in tissue engine", available=True,
                   qualities=list(Quality), finds=TISSUE_FINDS),
        EngineInfo(name=EngineName.IMPORT, label="Your own segmentation", available=True,
                   qualities=list(Quality), finds="the structures of the label map you upload"),
    ])


@router.get("")
def list_engines(user: CurrentUser, services: ServicesDep) -> EnginesPublic:
    """The engines and, for each, whether it can run here and at which quality levels."""
    del user  # signed-in users only: what a server has installed is not public
    return engines_now(services.settings)
