"""The PACS resources: servers, search hits (shown, never stored), pulls and sends."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from iris3d.api.schemas import JobPublic, StudyPublic
from iris3d.contracts import EngineName, Quality
from iris3d.settings import PacsAuth, PacsServerConfig
from iris3d.store.models import PacsSendState


class PacsServerCreate(PacsServerConfig):
    """A DICOMweb server of your own; ``secret`` is the password (basic) or token (bearer)."""


class PacsServerPublic(BaseModel):
    id: str
    name: str
    url: str = Field(description="The DICOMweb base address (before /studies).")
    auth: PacsAuth
    username: str | None
    has_secret: bool = Field(description="Whether a password or token is set (never shown).")
    shared: bool = Field(description="Configured by the administrator for everyone.")


class PacsServersPublic(BaseModel):
    items: list[PacsServerPublic]


class PacsSearch(BaseModel):
    date_from: date | None = None
    date_to: date | None = None
    modality: str | None = Field(default=None, max_length=16, pattern=r"^[A-Za-z]{1,16}$")
    description: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=100, ge=1, le=500)


class PacsStudyHit(BaseModel):
    study_uid: str
    date: str | None = Field(description="YYYY-MM-DD")
    description: str
    modalities: list[str]
    series_count: int | None
    instance_count: int | None
    patient_name: str = Field(description="From the PACS, shown to you; Iris keeps none of it.")
    patient_id: str


class PacsStudyHits(BaseModel):
    items: list[PacsStudyHit]


class PacsSeriesHit(BaseModel):
    study_uid: str
    series_uid: str
    date: str | None = Field(description="YYYY-MM-DD")
    modality: str
    description: str
    study_description: str
    number: int | None
    instance_count: int | None
    patient_name: str = Field(description="From the PACS, shown to you; Iris keeps none of it.")
    patient_id: str


class PacsSeriesHits(BaseModel):
    items: list[PacsSeriesHit]


_UID = r"^[0-9.]{1,64}$"


class PacsPull(BaseModel):
    series_uid: str = Field(pattern=_UID)
    study_uid: str | None = Field(default=None, pattern=_UID, description="Default: asked of "
                                  "the PACS.")
    name: str | None = Field(default=None, max_length=200, description="The new study's name.")
    quality: Quality = Quality.FAST
    engine: EngineName = EngineName.AUTO
    send_results: bool = Field(default=False, description="Send the DICOM-SEG and SR back to "
                               "this server when the job is done.")


class PacsPulled(BaseModel):
    study: StudyPublic
    job: JobPublic


class PacsSend(BaseModel):
    job_id: str = Field(max_length=64)


class PacsSent(BaseModel):
    artifacts: list[str] = Field(description="The job's DICOM results sent.")
    instances: int = Field(description="Instances the PACS says it stored.")


class PacsSendStatus(BaseModel):
    job_id: str
    server_id: str
    state: PacsSendState = Field(description="pending until the job finishes, then sending, "
                                 "and sent, failed or skipped (the job made no results).")
    detail: str | None = Field(description="Why it failed or was skipped, or what was stored.")
