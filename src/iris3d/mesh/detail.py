"""How much detail a surface keeps, per quality level."""

from __future__ import annotations

from dataclasses import dataclass

from iris3d.contracts import Quality
from iris3d.errors import IrisError


class UnknownQualityError(IrisError):
    """Unknown quality level: use fastest, fast, normal or high."""


@dataclass(frozen=True)
class MeshDetail:
    """Parameters of the surface stage (smoothing and decimation) for one quality level.

    ``smoothing_iterations``: terms of the windowed-sinc low-pass filter (Taubin 1996); more terms
    give a sharper cut-off between the organ's shape (kept) and the voxel staircase (removed).
    ``passband``: the filter's pass band ``k_pb`` in [0, 2] (3D Slicer's default 0.01); each
    structure widens it as needed so that its own shape is never filtered away (thin vessels and
    small glands stay), and its enclosed volume is then restored to the voxel volume.
    ``max_error_mm``: decimation error bound in millimetres (0 keeps every triangle).
    ``min_decimate_triangles``: meshes smaller than this are not decimated (it makes spikes).
    """

    name: Quality
    smoothing_iterations: int
    passband: float
    max_error_mm: float
    min_decimate_triangles: int

    def __post_init__(self) -> None:
        if self.smoothing_iterations < 0:
            raise ValueError("smoothing_iterations must be >= 0")
        if not 0.0 < self.passband <= 2.0:
            raise ValueError("passband must be in (0, 2]")
        if self.max_error_mm < 0:
            raise ValueError("max_error_mm must be >= 0")


FAST = MeshDetail(Quality.FAST, smoothing_iterations=20, passband=0.02, max_error_mm=0.5,
                  min_decimate_triangles=1000)
"""Previews: a short filter and a coarse (0.5 mm) decimation; the smallest files."""

NORMAL = MeshDetail(Quality.NORMAL, smoothing_iterations=40, passband=0.01, max_error_mm=0.25,
                    min_decimate_triangles=2000)
"""The default: Slicer-like smoothing (40 terms, pass band 0.01), decimation within 0.25 mm."""

HIGH = MeshDetail(Quality.HIGH, smoothing_iterations=60, passband=0.01, max_error_mm=0.05,
                  min_decimate_triangles=4000)
"""Print and measurement: a sharper filter and decimation within 0.05 mm (larger files): at
0.1 mm the decimation's own error was much of the surfaces' (on the fidelity benchmark the
plate 0.092 -> 0.076 mm RMS at 1.5 mm, the ring 0.078 -> 0.057, for about twice the triangles)."""

# The 6 mm preview model still gets the fast level's meshes: coarser ones look broken.
QUALITY_LEVELS: dict[Quality, MeshDetail] = {
    Quality.FASTEST: FAST, Quality.FAST: FAST, Quality.NORMAL: NORMAL, Quality.HIGH: HIGH
}


def mesh_detail(quality: Quality | str) -> MeshDetail:
    """The :class:`MeshDetail` of a quality level."""
    try:
        return QUALITY_LEVELS[Quality(quality)]
    except ValueError:
        raise UnknownQualityError(
            f"unknown quality {quality!r}: use one of {', '.join(QUALITY_LEVELS)}"
        ) from None
