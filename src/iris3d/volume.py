"""The typed values that flow through Iris: a CT volume and a label map on the same grid.

Convention: arrays are indexed ``[i, j, k]`` and ``affine`` maps ``(i, j, k, 1)`` to patient
millimetres in **RAS+** (x towards the patient's Right, y Anterior, z Superior), as NIfTI does.
Ingest reorients every study to the closest canonical RAS+ voxel order, so the same patient gives
the same array whatever file it came from. DICOM's LPS appears only in ``iris3d.geometry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable
from iris3d.census import LabelCensus, take_census
from iris3d.geometry import orientation_codes, voxel_spacing


@dataclass(frozen=True)
class SeriesSummary:
    """One image series found in a DICOM folder or archive."""

    uid: str
    description: str
    modality: str
    slice_count: int
    orientation: str  # "axial", "coronal", "sagittal", "oblique" or "localizer"
    rows: int
    columns: int

    def to_dict(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "description": self.description,
            "modality": self.modality,
            "slice_count": self.slice_count,
            "orientation": self.orientation,
            "rows": self.rows,
            "columns": self.columns,
        }


@dataclass(frozen=True)
class StudyMetadata:
    """What we know about a study that identifies no one: no names, IDs, dates or UIDs of people."""

    source_format: str
    modality: str | None = None
    manufacturer: str | None = None
    kvp: float | None = None
    slice_thickness_mm: float | None = None
    series_description: str | None = None
    series_uid: str | None = None
    number_of_slices: int | None = None
    series: tuple[SeriesSummary, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "source_format": self.source_format,
            "modality": self.modality,
            "manufacturer": self.manufacturer,
            "kvp": self.kvp,
            "slice_thickness_mm": self.slice_thickness_mm,
            "series_description": self.series_description,
            "series_uid": self.series_uid,
            "number_of_slices": self.number_of_slices,
            "series": [s.to_dict() for s in self.series],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class DicomImageRef:
    """One DICOM image a volume was stacked from."""

    sop_instance_uid: str
    position: tuple[float, float, float]  # ImagePositionPatient, LPS millimetres


@dataclass(frozen=True)
class DicomSource:
    """The DICOM series a volume was read from, as much as a result must reference to be filed
    beside it in a PACS: UIDs and geometry, nothing that names a person (no names, IDs, dates).
    """

    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    sop_class_uid: str
    modality: str
    images: tuple[DicomImageRef, ...]  # in stack order: along the slice normal
    orientation: tuple[float, float, float, float, float, float]  # ImageOrientationPatient
    pixel_spacing: tuple[float, float]  # (between rows, between columns)
    rows: int
    columns: int
    slice_thickness_mm: float | None
    resampled: bool  # the volume's grid is not the images' own (uneven spacing, gantry tilt)


def _check_grid(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]) -> None:
    if array.ndim != 3:
        raise ValueError(f"expected a 3D array, got shape {array.shape}")
    if affine.shape != (4, 4):
        raise ValueError(f"expected a 4x4 affine, got shape {affine.shape}")
    if abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise ValueError("the affine is singular: voxel spacing or direction is zero")


@dataclass(frozen=True, eq=False)
class CTVolume:
    """Hounsfield units on a voxel grid in patient space."""

    array: npt.NDArray[np.int16] | npt.NDArray[np.float32]
    affine: npt.NDArray[np.float64]
    metadata: StudyMetadata = field(default_factory=lambda: StudyMetadata("memory"))
    # The RAS+ affine of the voxel order the file stored (DICOM: [column, row, slice] on the
    # volume's grid), before ingest turned it to RAS; None for volumes made in memory.
    native_affine: npt.NDArray[np.float64] | None = None
    dicom: DicomSource | None = None  # only for a volume read from a DICOM series

    def __post_init__(self) -> None:
        _check_grid(self.array, self.affine)

    @property
    def shape(self) -> tuple[int, int, int]:
        i, j, k = self.array.shape
        return (i, j, k)

    @property
    def spacing(self) -> tuple[float, float, float]:
        return voxel_spacing(self.affine)

    @property
    def orientation(self) -> str:
        return orientation_codes(self.affine)

    @property
    def voxel_volume_ml(self) -> float:
        return float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0


@dataclass(frozen=True, eq=False)
class LabelMap:
    """Integer labels on a grid, each id named by ``table``.

    Resample only with nearest neighbour: interpolating ids invents structures. The array is
    not changed once it is in a label map: its :attr:`census` is taken once and kept.
    """

    array: npt.NDArray[np.integer]
    affine: npt.NDArray[np.float64]
    table: LabelTable

    def __post_init__(self) -> None:
        _check_grid(self.array, self.affine)
        if not np.issubdtype(self.array.dtype, np.integer):
            raise ValueError(f"a label map must hold integers, got {self.array.dtype}")

    @property
    def shape(self) -> tuple[int, int, int]:
        i, j, k = self.array.shape
        return (i, j, k)

    def matches(self, volume: CTVolume, tolerance_mm: float = 1e-3) -> bool:
        """True when this label map lies voxel for voxel on ``volume``'s grid."""
        return self.shape == volume.shape and bool(
            np.allclose(self.affine, volume.affine, atol=tolerance_mm)
        )

    @cached_property
    def census(self) -> LabelCensus:
        """Every id's voxel count and bounding box, from one pass over the array (the only
        whole-volume pass that per-structure work may rely on)."""
        return take_census(self.array)

    def present_ids(self) -> list[int]:
        return self.census.present()
