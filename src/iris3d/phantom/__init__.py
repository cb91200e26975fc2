"""Synthetic CT studies whose truth we know, in every file format Iris reads.

Use :func:`make_phantom` for the volume and its labels; :mod:`iris3d.phantom.files` writes them
as NIfTI in any orientation or NRRD/MHA, and :mod:`iris3d.phantom.dicom` as a DICOM series.
"""

from iris3d.phantom.build import Phantom, StructureTruth, make_phantom, phantom_affine

__all__ = ["Phantom", "StructureTruth", "make_phantom", "phantom_affine"]
