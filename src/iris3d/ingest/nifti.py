"""NIfTI files (.nii, .nii.gz): read by :mod:`iris3d.ingest.nifti_file`, which checks every
claim of the header before it costs memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iris3d.geometry import reorient_to_ras
from iris3d.ingest.checks import replace_non_finite
from iris3d.ingest.hounsfield import looks_like_ct, to_hounsfield
from iris3d.ingest.nifti_file import read_nifti
from iris3d.volume import CTVolume, StudyMetadata


def load_nifti(path: Path, max_voxels: int) -> CTVolume:
    nifti = read_nifti(path, max_voxels, ct=True)
    hu, non_finite = replace_non_finite(to_hounsfield(nifti.stored, nifti.slope, nifti.intercept))
    array, affine = reorient_to_ras(hu, nifti.affine)
    warnings = ["NIfTI carries no modality: assumed to be CT", *nifti.warnings]
    if non_finite:
        warnings.append(non_finite)
    if not looks_like_ct(array):
        warnings.append("the values do not look like Hounsfield units (no air near -1000 HU)")
    metadata = StudyMetadata(
        source_format="nifti",
        modality=None,
        number_of_slices=int(array.shape[2]),
        slice_thickness_mm=float(np.linalg.norm(affine[:3, 2])),
        warnings=tuple(warnings),
    )
    return CTVolume(array=array, affine=affine, metadata=metadata,  # type: ignore[arg-type]
                    native_affine=np.asarray(nifti.affine, dtype=np.float64))
