"""Write phantoms as NIfTI in any voxel orientation, and as NRRD/MHA, to test every reader."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.imageio import itk, nifti_image, save_nifti
from iris3d.volume import CTVolume, LabelMap


def reorient(
    array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64], codes: str
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.float64]]:
    """The same image with voxel axes pointing to ``codes`` (e.g. ``"LPS"``, ``"PIR"``)."""
    current = nib.orientations.io_orientation(affine)
    target = nib.orientations.axcodes2ornt(tuple(codes))
    transform = nib.orientations.ornt_transform(current, target)
    new_array = np.ascontiguousarray(nib.orientations.apply_orientation(array, transform))
    return new_array, affine @ nib.orientations.inv_ornt_aff(transform, array.shape)


def write_nifti(image: CTVolume | LabelMap, path: Path, orientation: str = "RAS") -> Path:
    """A NIfTI file of ``image`` with its voxels stored in ``orientation`` order."""
    array, affine = reorient(image.array, image.affine, orientation)
    return save_nifti(nifti_image(array, affine), path)


def write_itk(image: CTVolume | LabelMap, path: Path) -> Path:
    """NRRD or MetaImage (by suffix), through SimpleITK, whose geometry is LPS."""
    return itk.write_itk(image.array, image.affine, path)
