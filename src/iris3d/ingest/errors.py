"""Why a study could not be loaded. Each class's docstring is its default message."""

from iris3d.errors import IrisError


class IngestError(IrisError):
    """The study could not be loaded."""


class UnsupportedFormatError(IngestError):
    """Not a file Iris reads: expected NIfTI (.nii, .nii.gz), NRRD, MHA/MHD, a DICOM series
    folder or a .zip of one."""


class CorruptFileError(IngestError):
    """The file is damaged: it is truncated or its compressed data is corrupt."""


class NotAVolumeError(IngestError):
    """The image is not a single 3D volume."""


class TooLargeError(IngestError):
    """The study is larger than this server accepts."""


class UnsafeArchiveError(IngestError):
    """The archive is unsafe to unpack (paths outside the archive, or too large when unpacked)."""


class NotCTError(IngestError):
    """The study is not a CT: Iris segments CT only."""


class NoImagesError(IngestError):
    """No DICOM images were found."""


class SeriesNotFoundError(IngestError):
    """The requested series is not in the study."""


class IrregularGeometryError(IngestError):
    """The slices do not form a regular volume."""


class InvalidGeometryError(IngestError):
    """The image's geometry is invalid: its voxel spacing or orientation is zero, not a number,
    or not a real 3D grid."""


class UnsafeReferenceError(IngestError):
    """The header names another file to read the voxels from, which this server does not do."""
