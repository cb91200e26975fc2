"""NRRD and MetaImage (.nrrd, .nhdr, .mha, .mhd) through SimpleITK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from iris3d.geometry import affine_from_direction, lps_to_ras, reorient_to_ras
from iris3d.ingest.errors import CorruptFileError, NotAVolumeError, UnsupportedFormatError
from iris3d.ingest.hounsfield import looks_like_ct, to_hounsfield
from iris3d.ingest.limits import check_volume_shape
from iris3d.volume import CTVolume, StudyMetadata


def load_itk(path: Path, max_voxels: int) -> CTVolume:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as e:
        raise UnsupportedFormatError(f"{path.name}: not an image SimpleITK can read") from e
    if reader.GetNumberOfComponents() != 1:
        raise NotAVolumeError(
            f"{path.name}: has {reader.GetNumberOfComponents()} components per voxel; "
            "expected a single-channel CT"
        )
    check_volume_shape(tuple(reader.GetSize()), max_voxels)
    if reader.GetDimension() != 3:
        raise NotAVolumeError(f"{path.name}: expected a 3D image, got {reader.GetDimension()}D")
    try:
        image = reader.Execute()
    except RuntimeError as e:
        raise CorruptFileError(f"{path.name}: the image data could not be read ({e})") from e
    # SimpleITK gives (z, y, x); Iris indexes (i, j, k) = (x, y, z).
    stored = sitk.GetArrayViewFromImage(image).transpose(2, 1, 0)
    affine_lps = affine_from_direction(image.GetOrigin(), image.GetSpacing(), image.GetDirection())
    hu = to_hounsfield(np.ascontiguousarray(stored))
    array, affine = reorient_to_ras(hu, lps_to_ras(affine_lps))
    warnings = [f"{path.suffix.lstrip('.').upper()} carries no modality: assumed to be CT"]
    if not looks_like_ct(array):
        warnings.append("the values do not look like Hounsfield units (no air near -1000 HU)")
    metadata = StudyMetadata(
        source_format=path.suffix.lower().lstrip("."),
        number_of_slices=int(array.shape[2]),
        slice_thickness_mm=float(np.linalg.norm(affine[:3, 2])),
        warnings=tuple(warnings),
    )
    return CTVolume(array=array, affine=affine, metadata=metadata)
