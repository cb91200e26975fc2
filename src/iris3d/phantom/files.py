"""Write phantoms as NIfTI in any voxel orientation, and as NRRD/MHA, to test every reader."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from iris3d.geometry import ras_to_lps
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
    nifti = nib.Nifti1Image(array, affine)
    nifti.set_qform(affine, code=1)
    nifti.set_sform(affine, code=1)
    nifti.header.set_xyzt_units("mm", "sec")
    nib.save(nifti, str(path))
    return path


def write_itk(image: CTVolume | LabelMap, path: Path) -> Path:
    """NRRD or MetaImage (by suffix), through SimpleITK, whose geometry is LPS."""
    affine_lps = ras_to_lps(image.affine)
    spacing = np.linalg.norm(affine_lps[:3, :3], axis=0)
    itk_image = sitk.GetImageFromArray(np.ascontiguousarray(image.array.transpose(2, 1, 0)))
    itk_image.SetSpacing([float(s) for s in spacing])
    itk_image.SetOrigin([float(v) for v in affine_lps[:3, 3]])
    itk_image.SetDirection([float(v) for v in (affine_lps[:3, :3] / spacing).ravel()])
    sitk.WriteImage(itk_image, str(path), useCompression=True)
    return path
