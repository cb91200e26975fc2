"""NIfTI files (.nii, .nii.gz) through nibabel."""

from __future__ import annotations

import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from iris3d.geometry import reorient_to_ras
from iris3d.ingest.errors import CorruptFileError, UnsupportedFormatError
from iris3d.ingest.hounsfield import looks_like_ct, to_hounsfield
from iris3d.ingest.limits import check_volume_shape
from iris3d.volume import CTVolume, StudyMetadata


def load_nifti(path: Path, max_voxels: int) -> CTVolume:
    image = _open(path)
    header = image.header
    shape = check_volume_shape(tuple(header.get_data_shape()), max_voxels)
    _check_file_holds_data(path, image)
    try:
        proxy = image.dataobj
        raw = np.asanyarray(proxy.get_unscaled()).reshape(shape)  # type: ignore[attr-defined]
        if isinstance(raw, np.memmap):
            raw = np.array(raw)  # detach from the file, which may be a temporary upload
    except (EOFError, zlib.error, OSError, ValueError) as e:
        raise CorruptFileError(f"{path.name}: the image data is truncated or corrupt ({e})") from e
    # nibabel moves scl_slope/scl_inter from the header to the array proxy when loading.
    slope, intercept = float(proxy.slope), float(proxy.inter)  # type: ignore[attr-defined]
    hu = to_hounsfield(raw, slope if np.isfinite(slope) else 1.0,
                       intercept if np.isfinite(intercept) else 0.0)
    array, affine = reorient_to_ras(hu, np.asarray(image.affine, dtype=np.float64))
    warnings = ["NIfTI carries no modality: assumed to be CT"]
    if not looks_like_ct(array):
        warnings.append("the values do not look like Hounsfield units (no air near -1000 HU)")
    metadata = StudyMetadata(
        source_format="nifti",
        modality=None,
        number_of_slices=int(array.shape[2]),
        slice_thickness_mm=float(np.linalg.norm(affine[:3, 2])),
        warnings=tuple(warnings),
    )
    return CTVolume(array=array, affine=affine, metadata=metadata)


def _open(path: Path) -> nib.Nifti1Image:
    try:
        image = nib.load(str(path))
    except nib.filebasedimages.ImageFileError as e:
        raise UnsupportedFormatError(f"{path.name}: not a NIfTI image ({e})") from e
    except (EOFError, zlib.error, OSError) as e:
        raise CorruptFileError(f"{path.name}: the file is truncated or corrupt ({e})") from e
    except ValueError as e:
        raise CorruptFileError(f"{path.name}: the NIfTI header is invalid ({e})") from e
    if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
        raise UnsupportedFormatError(f"{path.name}: not a NIfTI image")
    return image


def _check_file_holds_data(path: Path, image: nib.Nifti1Image) -> None:
    """An uncompressed file must be at least as long as its header says; checked before reading."""
    if path.name.lower().endswith(".gz"):
        return  # the length is only known by decompressing; truncation surfaces when reading
    header = image.header
    needed = int(header.get_data_offset()) + int(
        np.prod(header.get_data_shape(), dtype=np.int64)
    ) * header.get_data_dtype().itemsize
    actual = path.stat().st_size
    if actual < needed:
        raise CorruptFileError(
            f"{path.name}: the header describes {needed:,} bytes of image but the file holds "
            f"{actual:,}: it is truncated"
        )
