"""What the API sends and receives. The web app's TypeScript client is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from iris3d.contracts import ArtifactName, EngineName, JobKind, JobStage, JobState, Quality, Stage


class EngineInfo(BaseModel):
    name: EngineName = Field(description="What POST /api/jobs takes as ``engine``.")
    label: str
    available: bool = Field(description="Whether this server can run it now.")
    qualities: list[Quality] = Field(description="The quality levels it can run at.")
    finds: str = Field(description="What it segments, in plain words.")


class EnginesPublic(BaseModel):
    items: list[EngineInfo]


class Message(BaseModel):
    detail: str


class Credentials(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=1024)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    is_admin: bool
    created_at: datetime
    disabled: bool = False


class UsersPublic(BaseModel):
    items: list[UserPublic]
    total: int


class SignedIn(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserPublic


class ArtifactPublic(BaseModel):
    name: ArtifactName
    filename: str
    size: int
    media_type: str
    url: str


class JobCreate(BaseModel):
    study_id: str
    quality: Quality = Quality.FAST
    engine: EngineName = EngineName.AUTO
    series_uid: str | None = Field(default=None, description="DICOM series; default: largest CT.")


class JobPublic(BaseModel):
    id: str
    kind: JobKind = Field(description="Processing of one study, or a comparison of two.")
    study_id: str = Field(description="The study; for a comparison, the earlier study.")
    state: JobState
    stage: JobStage
    percent: float = Field(description="0 to 100.")
    message: str
    queue_position: int | None = Field(description="Jobs to be claimed before this one.")
    eta_seconds: float | None = Field(description="Time to finish, from past jobs.")
    quality: Quality | None = Field(description="None for comparisons.")
    engine: EngineName | None = Field(description="None for comparisons.")
    engine_used: str | None
    engine_reason: str | None
    error: str | None
    cancel_requested: bool
    attempts: int
    max_attempts: int
    series_uid: str | None
    created_at: datetime
    updated_at: datetime = Field(description="When the job last changed (its worker's clock).")
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    timings_s: dict[Stage, float] = Field(description="Seconds each stage took.")
    artifacts: list[ArtifactPublic]


class JobsPublic(BaseModel):
    items: list[JobPublic]


class SeriesPublic(BaseModel):
    uid: str
    description: str
    modality: str
    slice_count: int
    orientation: str
    rows: int
    columns: int


class StudyPublic(BaseModel):
    id: str
    name: str
    labels: list[str]
    source_format: str
    source_bytes: int
    shape: list[int]
    spacing_mm: list[float]
    study_metadata: dict[str, Any]
    series: list[SeriesPublic]
    has_segmentation: bool
    created_at: datetime
    updated_at: datetime
    latest_job: JobPublic | None
    thumbnail_url: str | None


class StudiesPublic(BaseModel):
    items: list[StudyPublic]


# Stripped first: a name of spaces only is no name.
StudyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StudyUpdate(BaseModel):
    name: StudyName | None = None
    labels: list[str] | None = Field(default=None, max_length=50)


class UploadCreate(BaseModel):
    size: int = Field(gt=0, description="Bytes the whole file will have.")
    filename: str = Field(
        default="", max_length=255, description="Only its extension is used (.nii.gz, .zip...)."
    )


class UploadPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    size: int
    received: int
    chunk_size: int
    expires_at: datetime


class UploadComplete(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    series_uid: str | None = None


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


class ComparisonCreate(BaseModel):
    base_study_id: str = Field(description="The earlier study: the reference frame.")
    follow_study_id: str = Field(description="The later study, aligned to the earlier one.")
    affine: bool = Field(default=False, description="Affine rather than rigid alignment.")


class ComparisonSide(BaseModel):
    study_id: str
    study_name: str
    job_id: str = Field(description="The processing job whose results are compared.")
    glb_url: str = Field(description="That job's 3D model, in the study's own frame.")


class ComparisonPublic(BaseModel):
    id: str = Field(description="Also the comparison's job id (progress, cancel, retry, files).")
    base: ComparisonSide
    follow: ComparisonSide
    affine: bool
    job: JobPublic
    created_at: datetime


class ComparisonsPublic(BaseModel):
    items: list[ComparisonPublic]


class LimitsPublic(BaseModel):
    upload_suffixes: list[str] = Field(
        description="Name endings of the files an upload takes (lower case), e.g. `.nii.gz`."
    )
    detached_header_suffixes: list[str] = Field(
        description="Headers whose data is a second file: upload them zipped with it."
    )
    max_upload_bytes: int = Field(description="The largest study this server accepts.")
