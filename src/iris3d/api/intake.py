"""An uploaded study becomes a stored one: checked by ingest, then kept in the blob store.

Nothing is kept unless ingest accepts the study: on any error the staging folder is removed and
no row or file remains.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from iris3d.api.upload_stream import ReceivedFile
from iris3d.contracts import keys
from iris3d.errors import IrisError
from iris3d.ingest.errors import NoImagesError
from iris3d.ingest.inspection import Inspection, inspect_upload
from iris3d.ingest.limits import ReadLimits
from iris3d.ingest.sandbox import Limits, run_limited
from iris3d.scrub import scrub
from iris3d.settings import Settings
from iris3d.store import studies
from iris3d.store.blobs import BlobStore
from iris3d.store.database import Database
from iris3d.store.models import Study, new_id, utcnow


def arrange(files: list[ReceivedFile], folder: Path) -> Path:
    """One file keeps its kind (``study.nii.gz``); several are a DICOM series folder."""
    if not files:
        raise NoImagesError("The upload holds no files.")
    if len(files) == 1:
        only = files[0]
        target = folder / f"study{only.suffix}"
        only.path.replace(target)
        return target
    series = folder / "dicom"
    series.mkdir()
    for index, received in enumerate(files, start=1):
        received.path.replace(series / f"{index:06d}.dcm")
    return series


def reader_limits(settings: Settings) -> Limits:
    return Limits.from_settings(settings)


def _packed(path: Path) -> Path:
    """A DICOM folder as one stored zip (no compression: pixel data barely compresses)."""
    if not path.is_dir():
        return path
    archive = path.parent / "study.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            zf.write(member, member.relative_to(path).as_posix())
    shutil.rmtree(path)
    return archive


def store_study(
    *,
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    owner_id: str,
    source: Path,
    name: str,
    series_uid: str | None,
) -> Study:
    """Inspect ``source`` (a file or DICOM folder in a staging folder) and keep it as a study."""
    try:
        inspection, source = run_limited(inspect_upload, source, series_uid,
                                         ReadLimits.from_settings(settings),
                                         limits=reader_limits(settings))
    except IrisError as e:
        raise _without_folder(e, source.parent) from e
    packed = _packed(source)
    study_id = new_id()
    stored_name = "study.zip" if packed.suffix == ".zip" else packed.name
    info = blobs.put_file(keys.source_key(study_id, stored_name), packed, move=True)
    try:
        with db.session() as session:
            return studies.add_study(
                session,
                study_id=study_id,
                owner_id=owner_id,
                name=name or _default_name(inspection),
                source_key=info.key,
                source_format=inspection.source_format,
                source_bytes=info.size,
                metadata=inspection.metadata,
                series=inspection.series,
                shape=inspection.shape,
                spacing_mm=inspection.spacing_mm,
            )
    except BaseException:
        blobs.delete_prefix(keys.study_prefix(study_id))
        raise


def _default_name(inspection: Inspection) -> str:
    """A neutral name until the user gives one: file and folder names, and DICOM descriptions,
    often carry the patient's name."""
    modality = str(inspection.metadata.get("modality") or "CT")
    shape = "×".join(str(n) for n in inspection.shape)
    return f"{modality} · {shape} · uploaded {utcnow().date().isoformat()}"


def _without_folder(error: IrisError, folder: Path) -> IrisError:
    """The same error, its message naming files without the server's staging folder."""
    message = scrub(error, folders=[folder])
    try:
        return type(error)(message)
    except TypeError:  # a subclass with another constructor: keep its status, lose the type
        return error
