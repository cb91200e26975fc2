"""Iris volumes as SimpleITK images: voxels in ITK's (z, y, x) array order, geometry in LPS.

Kept apart from :mod:`iris3d.imageio`'s other modules: SimpleITK costs ~100 MB resident and a
second to load, so only comparisons and test phantoms import it. Reading untrusted ITK files is
:mod:`iris3d.ingest.itk`'s (with its size and header checks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from iris3d.geometry import itk_geometry


def to_itk(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]) -> sitk.Image:
    """``array`` (Iris's (i, j, k) order) on the RAS+ ``affine``, as an ITK image in LPS."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(array.transpose(2, 1, 0)))
    origin, spacing, direction = itk_geometry(affine)
    image.SetOrigin(origin)
    image.SetSpacing(spacing)
    image.SetDirection(direction)
    return image


def write_itk(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64], path: Path) -> Path:
    """NRRD or MetaImage (chosen by ``path``'s suffix), compressed."""
    sitk.WriteImage(to_itk(array, affine), str(path), useCompression=True)
    return path
