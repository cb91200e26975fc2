"""Align the follow-up study to the base study: rigid (optionally then affine), in RAS+ mm.

The centroids of the structures both studies share give the first guess (see
:mod:`iris3d.compare.landmarks`); SimpleITK then refines it on the CTs' intensities over three
resolutions. ITK works in LPS: images are built and transforms read back through
:mod:`iris3d.geometry`, so what leaves this module is a RAS+ matrix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from iris3d.compare.landmarks import Initialisation, initial_alignment
from iris3d.compare.measure import StructureMeasure
from iris3d.geometry import points_ras_to_lps, transform_lps_to_ras, transform_ras_to_lps
from iris3d.imageio.itk import to_itk
from iris3d.volume import CTVolume

Metric = Literal["mattes", "mean_squares"]
# HU outside this window carry no anatomy for alignment (air is air; metal and dense bone
# would dominate a mean-squares metric).
HU_WINDOW = (-1000.0, 1500.0)
_SHRINK = (4, 2, 1)
_SMOOTH_VOXELS = (2.0, 1.0, 0.0)
# Speed: the CTs are first binned (averaged) to voxels of at least WORKING_SPACING_MM, and the
# metric reads SAMPLES random voxels per level (seeded, so repeatable), whatever the scan's size.
# Measured on a 256x256x200 phantom pair at 1.5x1.5x2 mm (benchmarks/compare_bench.py): 2.5 mm
# left it unbinned, 11 s; 4 mm: 1.9 s, and the error fell from 0.06 to 0.04 degrees (the
# image pyramid's cost grows with the voxels; the metric's samples do not).
WORKING_SPACING_MM = 4.0
SAMPLES = 30_000
_SEED = 20240101


@dataclass(frozen=True)
class Registration:
    """``matrix`` maps follow-up RAS+ mm to base RAS+ mm (apply it to follow-up points)."""

    matrix: npt.NDArray[np.float64]
    initial: Initialisation
    transform: str  # "rigid" or "affine"
    metric: str
    metric_value: float  # NaN when the refinement failed and ``initial`` was kept
    seconds: float
    refined: bool = True  # False: the intensities could not refine the first guess

    @property
    def rotation_deg(self) -> float:
        """The angle of the matrix's rotation (of its closest rotation, for an affine)."""
        u, _, vt = np.linalg.svd(self.matrix[:3, :3])
        cosine = (np.trace(u @ vt) - 1.0) / 2.0
        return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))

    def to_dict(self) -> dict[str, object]:
        return {
            "transform": self.transform,
            "metric": self.metric,
            "metric_value": round(self.metric_value, 6) if np.isfinite(self.metric_value)
            else None,
            "refined": self.refined,
            "initialisation": self.initial.method,
            "landmarks": list(self.initial.landmarks),
            "matrix_follow_to_base_ras": [[round(float(v), 6) for v in row]
                                          for row in self.matrix],
            "rotation_deg": round(self.rotation_deg, 3),
            "translation_mm": [round(float(v), 3) for v in self.matrix[:3, 3]],
            "seconds": round(self.seconds, 3),
        }


def register_studies(
    base_ct: CTVolume,
    base: Mapping[str, StructureMeasure],
    follow_ct: CTVolume,
    follow: Mapping[str, StructureMeasure],
    *,
    affine: bool = False,
    metric: Metric = "mattes",
) -> Registration:
    """The transform taking ``follow_ct`` onto ``base_ct`` (both with their structures'
    measures, for the first guess). ``affine`` adds scaling and shear after the rigid step
    (it may take part of an organ's real growth for scaling: rigid suits organ comparisons)."""
    started = time.perf_counter()
    initial = initial_alignment(base, follow, base_ct, follow_ct)
    fixed, moving = _itk_image(base_ct), _itk_image(follow_ct)
    # ITK's transform maps fixed (base) points to moving (follow-up) points, in LPS.
    fixed_to_moving = transform_ras_to_lps(np.asarray(np.linalg.inv(initial.matrix), np.float64))
    centre = _lps_centre(base, initial)
    rigid = sitk.Euler3DTransform()
    rigid.SetCenter(centre)
    rigid.SetMatrix([float(v) for v in fixed_to_moving[:3, :3].ravel()], 1e-4)
    rigid.SetTranslation(_translation(fixed_to_moving, centre))
    try:
        value = _refine(fixed, moving, rigid, metric, _SHRINK, _SMOOTH_VOXELS, step_mm=1.0)
    except RuntimeError:  # e.g. ITK's "all samples map outside moving image buffer"
        return Registration(matrix=initial.matrix, initial=initial, metric=metric,
                            transform="rigid", metric_value=float("nan"),
                            seconds=time.perf_counter() - started, refined=False)
    result: sitk.Euler3DTransform | sitk.AffineTransform = rigid
    if affine:
        general = sitk.AffineTransform(3)
        general.SetCenter(rigid.GetCenter())
        general.SetMatrix(rigid.GetMatrix())
        general.SetTranslation(rigid.GetTranslation())
        # Short steps: scaling along the table is weakly held by a scan cut at both ends, and
        # an affine can take an organ's real growth for a change of scale.
        try:
            value = _refine(fixed, moving, general, metric, _SHRINK[1:], _SMOOTH_VOXELS[1:],
                            step_mm=0.25)
            result = general
        except RuntimeError:
            pass  # the rigid result stands, and says so ("transform": "rigid")
    moving_to_fixed = np.asarray(np.linalg.inv(transform_lps_to_ras(_matrix(result))),
                                 dtype=np.float64)
    return Registration(
        matrix=moving_to_fixed,
        initial=initial,
        transform="affine" if result is not rigid else "rigid",
        metric=metric,
        metric_value=value,
        seconds=time.perf_counter() - started,
    )


def _refine(
    fixed: sitk.Image,
    moving: sitk.Image,
    transform: sitk.Transform,
    metric: Metric,
    shrink: tuple[int, ...],
    smooth: tuple[float, ...],
    step_mm: float,
) -> float:
    """Optimise ``transform`` in place; returns the final metric value (lower is better)."""
    method = sitk.ImageRegistrationMethod()
    if metric == "mattes":
        method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    else:
        method.SetMetricAsMeanSquares()
    method.SetMetricSamplingStrategy(method.RANDOM)
    voxels = fixed.GetNumberOfPixels()
    method.SetMetricSamplingPercentagePerLevel(
        [min(1.0, SAMPLES * f**3 / voxels) for f in shrink], _SEED)
    method.SetInterpolator(sitk.sitkLinear)
    # Steps in mm at the image's edge (physical-shift scales), halved down to 0.02 mm.
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=step_mm, minStep=0.02, numberOfIterations=100, relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-6)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel(list(shrink))
    method.SetSmoothingSigmasPerLevel(list(smooth))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetInitialTransform(transform, inPlace=True)
    method.Execute(fixed, moving)
    return float(method.GetMetricValue())


def _itk_image(ct: CTVolume) -> sitk.Image:
    """The CT as an ITK image in LPS, HU clamped, binned to the working spacing."""
    hu = np.clip(np.asarray(ct.array, dtype=np.float32), *HU_WINDOW)
    image = to_itk(hu, ct.affine)
    spacing = image.GetSpacing()
    bins = [max(1, int(WORKING_SPACING_MM // s)) for s in spacing]
    return sitk.BinShrink(image, bins) if max(bins) > 1 else image


def _lps_centre(base: Mapping[str, StructureMeasure], initial: Initialisation) -> list[float]:
    """The rotation centre: the fitted landmarks' mean (or all structures'), in base LPS mm."""
    names = initial.landmarks or tuple(base)
    centre_ras = np.mean([base[n].centroid_ras for n in names], axis=0)
    return [float(v) for v in points_ras_to_lps(centre_ras[None])[0]]


def _translation(matrix: npt.NDArray[np.float64], centre: list[float]) -> list[float]:
    """ITK's translation for a 4x4 about ``centre``: p -> M (p - c) + c + t."""
    c = np.asarray(centre)
    return [float(v) for v in matrix[:3, 3] - c + matrix[:3, :3] @ c]


def _matrix(transform: sitk.Euler3DTransform | sitk.AffineTransform) -> npt.NDArray[np.float64]:
    """The 4x4 of an ITK matrix-offset transform (Euler, affine), in its own (LPS) space."""
    m = np.asarray(transform.GetMatrix(), dtype=np.float64).reshape(3, 3)
    c = np.asarray(transform.GetCenter(), dtype=np.float64)
    t = np.asarray(transform.GetTranslation(), dtype=np.float64)
    matrix = np.eye(4)
    matrix[:3, :3] = m
    matrix[:3, 3] = c + t - m @ c
    return matrix
