"""Image files written and read by Iris, in one place: NIfTI (a CT in HU, any volume with its
affine), label maps with their names (in the NIfTI header and a JSON sidecar) and label tables.
Everything else sees volumes as arrays with a RAS+ affine (:mod:`iris3d.volume`).

SimpleITK conversion is :mod:`iris3d.imageio.itk`, imported on its own (it is heavy). The readers
of untrusted studies, with their limits, stay in :mod:`iris3d.ingest`.
"""

from iris3d.imageio.gzip_writer import ParallelGzipWriter
from iris3d.imageio.label_tables import LabelFileError, read_table
from iris3d.imageio.labels import (
    check_label_file,
    read_label_map,
    read_nifti_labels,
    sidecar_path,
    write_label_map,
)
from iris3d.imageio.nifti import nifti_image, save_nifti, write_ct_nifti

__all__ = [
    "LabelFileError",
    "ParallelGzipWriter",
    "check_label_file",
    "nifti_image",
    "read_label_map",
    "read_nifti_labels",
    "read_table",
    "save_nifti",
    "sidecar_path",
    "write_ct_nifti",
    "write_label_map",
]
