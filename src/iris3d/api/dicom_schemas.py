"""What the PACS-routing routes (``/api/dicom/...``) send and receive."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from iris3d.contracts import EngineName, Quality
from iris3d.store.dicom import ReceiptState


class DicomRulePublic(BaseModel):
    """How studies a PACS sends to you are processed, and where their results go."""

    model_config = ConfigDict(from_attributes=True)

    quality: Quality = Quality.FAST
    engine: EngineName = EngineName.AUTO
    destination: str | None = Field(
        default=None,
        max_length=32,
        description="The id of one of your PACS servers to send the DICOM-SEG and SR to "
        "(STOW-RS); none: results stay in Iris.",
    )


class ReceiveTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Which PACS uses it.")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Default: IRIS_API_TOKEN_TTL_S."
    )


class ReceiptPublic(BaseModel):
    """A study a PACS sent you: what became of it (never its identifiers)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    state: ReceiptState
    reason: str = Field(description="Why nothing was processed or sent, when that happened.")
    instances: int = Field(description="Instances received (duplicates counted once).")
    bytes: int
    study_id: str | None
    job_id: str | None
    destination: str | None
    created_at: datetime
    updated_at: datetime


class ReceiptsPublic(BaseModel):
    items: list[ReceiptPublic]
