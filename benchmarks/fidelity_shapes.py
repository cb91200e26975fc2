"""Analytic shapes with exact signed distances, and the CTs and label maps made from them.

Used by ``surface_fidelity.py``. Every shape is given by its signed distance in millimetres
(negative inside). A scene puts one shape (or an organ and its neighbour) on a CT grid: each
voxel's HU is the background's plus each structure's contrast times the fraction of the voxel
it fills (supersampled, as a scanner's partial-volume effect), plus Gaussian noise; the label
map is the truth thresholded at voxel centres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris3d.anatomy import LabelTable, Structure
from iris3d.volume import CTVolume, LabelMap

Points = npt.NDArray[np.float64]
VESSEL_RADIUS = 1.0  # mm: a 2 mm vessel
Sdf = Callable[[Points], npt.NDArray[np.float64]]


def _rotation(ax: float, ay: float, az: float) -> npt.NDArray[np.float64]:
    cx, sx, cy, sy, cz, sz = (np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az),
                              np.sin(az))
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _rotated(sdf: Sdf, angles: tuple[float, float, float]) -> Sdf:
    inverse = _rotation(*np.radians(angles)).T
    return lambda p: sdf(p @ inverse.T)


def torus(major: float, minor: float) -> Sdf:
    def f(p: Points) -> npt.NDArray[np.float64]:
        ring = np.hypot(p[:, 0], p[:, 1]) - major
        return np.asarray(np.hypot(ring, p[:, 2]) - minor)
    return f


def capsule(a: tuple[float, float, float], b: tuple[float, float, float], radius: float) -> Sdf:
    start, axis = np.asarray(a, float), np.asarray(b, float) - np.asarray(a, float)
    length2 = float(axis @ axis)

    def f(p: Points) -> npt.NDArray[np.float64]:
        t = np.clip((p - start) @ axis / length2, 0.0, 1.0)
        return np.asarray(np.linalg.norm(p - start - t[:, None] * axis, axis=1) - radius)
    return f


def sphere(radius: float, centre: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Sdf:
    c = np.asarray(centre, float)
    return lambda p: np.asarray(np.linalg.norm(p - c, axis=1) - radius)


def curved_plate(radius: float, half_angle_deg: float, half_height: float,
                 thickness: float) -> Sdf:
    """A plate ``thickness`` thick with rounded rims around a cylindrical patch (axis z)."""
    limit = np.radians(half_angle_deg)

    def f(p: Points) -> npt.NDArray[np.float64]:
        theta = np.clip(np.arctan2(p[:, 1], p[:, 0]), -limit, limit)
        z = np.clip(p[:, 2], -half_height, half_height)
        nearest = np.stack([radius * np.cos(theta), radius * np.sin(theta), z], axis=1)
        return np.asarray(np.linalg.norm(p - nearest, axis=1) - thickness / 2)
    return f


@dataclass(frozen=True)
class Part:
    name: str
    sdf: Sdf
    hu: float
    half_extent: float  # a cube of this half size (mm) about the origin holds the part
    volume_mm3: float  # exact, from the shape's formula


@dataclass(frozen=True)
class Shape:
    """One benchmark case: ``parts[0]`` is measured; the others are its neighbours."""

    name: str
    parts: tuple[Part, ...]
    background_hu: float


def shapes() -> list[Shape]:
    """Rib-like ring r 4 mm, 5 mm curved plate, 2 mm oblique vessel, 15 mm sphere, and a
    low-contrast organ (20 HU above its surroundings) 2 mm from a neighbour."""
    pi = np.pi
    a, b = np.array([-12.0, -8.0, -10.0]), np.array([10.0, 6.0, 12.0])
    organ_r, organ_len = 18.0, float(np.linalg.norm(b - a))
    v_a, v_b = np.array([-30.0, -18.0, -24.0]), np.array([30.0, 20.0, 22.0])
    vessel_r, vessel_len = VESSEL_RADIUS, float(np.linalg.norm(v_b - v_a))
    # Plate: Steiner's formula for a patch of area A and rim length L thickened by h either side.
    plate_r, plate_angle, plate_half, h = 45.0, np.radians(40.0), 22.0, 2.5
    area = 2 * plate_angle * plate_r * 2 * plate_half
    rim = 2 * (2 * plate_angle * plate_r) + 2 * (2 * plate_half)
    return [
        Shape("rib ring r4", (Part("rib", _rotated(torus(32.0, 4.0), (35, 20, 10)), 700.0, 40,
                                   2 * pi**2 * 32.0 * 4.0**2),), 40.0),
        Shape("plate 5mm", (Part("plate", _rotated(curved_plate(plate_r, 40.0, plate_half, 2 * h),
                                                   (25, -30, 15)), 500.0, 46,
                                 2 * h * area + pi / 2 * h**2 * rim + 4 / 3 * pi * h**3),), 40.0),
        Shape("vessel 2mm", (Part("vessel", capsule(tuple(v_a), tuple(v_b), vessel_r), 350.0, 40,
                                  pi * vessel_r**2 * vessel_len + 4 / 3 * pi * vessel_r**3),),
              40.0),
        Shape("sphere r15", (Part("sphere", sphere(15.0), 60.0, 18, 4 / 3 * pi * 15.0**3),),
              -100.0),
        Shape("organ+nbr", (Part("organ", capsule(tuple(a), tuple(b), organ_r), 60.0, 40,
                                 pi * organ_r**2 * organ_len + 4 / 3 * pi * organ_r**3),
                            Part("neighbour", sphere(14.0, (26.0, -22.0, -6.0)), 150.0, 42,
                                 4 / 3 * pi * 14.0**3)),
              40.0),
    ]



def ellipsoid(a: float, b: float, c: float) -> Sdf:
    """An ellipsoid's signed distance, approximated (Quilez's bound: exact on the surface,
    close near it, which is where the benchmark measures)."""
    axes = np.array([a, b, c])

    def f(p: Points) -> npt.NDArray[np.float64]:
        k0 = np.linalg.norm(p / axes, axis=1)
        k1 = np.linalg.norm(p / axes**2, axis=1)
        return np.asarray(k0 * (k0 - 1.0) / np.maximum(k1, 1e-12))
    return f


def extra_shapes() -> list[Shape]:
    """Shapes the goals were not tuned on (``--extra``): a flat ellipsoid of 6 noises'
    contrast, a thicker ring, a 4 mm vessel, two bright balls 3 mm apart, a faint ball
    (15 HU) 2 mm from a bright one."""
    pi = np.pi
    v_a, v_b = np.array([-25.0, 20.0, -20.0]), np.array([25.0, -15.0, 18.0])
    return [
        Shape("ellipsoid", (Part("ellipsoid", _rotated(ellipsoid(28.0, 18.0, 9.0), (30, 40, 10)),
                                 80.0, 34, 4 / 3 * pi * 28.0 * 18.0 * 9.0),), 20.0),
        Shape("ring r6", (Part("ring", _rotated(torus(24.0, 6.0), (60, 10, 30)), 400.0, 34,
                               2 * pi**2 * 24.0 * 6.0**2),), 0.0),
        Shape("vessel 4mm", (Part("vessel", capsule(tuple(v_a), tuple(v_b), 2.0), 300.0, 36,
                                  pi * 2.0**2 * float(np.linalg.norm(v_b - v_a))
                                  + 4 / 3 * pi * 2.0**3),), 40.0),
        Shape("two balls", (Part("ball", sphere(10.0, (-11.5, 0.0, 0.0)), 300.0, 26,
                                 4 / 3 * pi * 10.0**3),
                            Part("other", sphere(10.0, (11.5, 0.0, 0.0)), 320.0, 26,
                                 4 / 3 * pi * 10.0**3)), 40.0),
        Shape("faint ball", (Part("faint", sphere(12.0), 55.0, 20, 4 / 3 * pi * 12.0**3),
                             Part("bright", sphere(8.0, (0.0, 0.0, 22.0)), 400.0, 20,
                                  4 / 3 * pi * 8.0**3)), 40.0),
    ]

@dataclass(frozen=True)
class Scene:
    shape: Shape
    spacing: tuple[float, float, float]
    ct: CTVolume
    labels: LabelMap
    true_volume_mm3: float


def make_scene(shape: Shape, spacing: tuple[float, float, float], noise_hu: float = 10.0,
               seed: int = 0, label_mm: float | None = None) -> Scene:
    """``label_mm``: the labels are the truth on a grid of that spacing, resampled onto the
    CT's with nearest neighbour (as TotalSegmentator's 3 mm ``fast`` model's output is)."""
    rng = np.random.default_rng(seed)
    half = max(p.half_extent for p in shape.parts) + 6.0
    step = np.asarray(spacing, float)
    counts = np.ceil(2 * half / step).astype(int) + 1
    # A sub-voxel shift so that no surface lines up with the grid by construction.
    origin = -half + rng.uniform(0, 1, 3) * step
    affine = np.diag([*step, 1.0])
    affine[:3, 3] = origin
    grid = np.indices(tuple(counts), dtype=np.float64).reshape(3, -1).T * step + origin
    hu = np.full(len(grid), shape.background_hu)
    labels = np.zeros(len(grid), dtype=np.uint8)
    label_points = grid if label_mm is None else (
        np.floor((grid - origin) / label_mm + 0.5) * label_mm + origin)
    for n, part in enumerate(shape.parts):
        distance = part.sdf(grid)
        hu += (part.hu - shape.background_hu) * _fraction(part.sdf, grid, distance, step)
        at_labels = distance if label_mm is None else part.sdf(label_points)
        labels[(at_labels < 0) & (labels == 0)] = n + 1
    hu += rng.normal(0.0, noise_hu, len(hu))
    array = hu.reshape(tuple(counts)).astype(np.float32)
    table = LabelTable([Structure(n + 1, p.name, "other", (200, 180, 160))
                        for n, p in enumerate(shape.parts)])
    return Scene(shape, spacing, CTVolume(array, affine),
                 LabelMap(labels.reshape(tuple(counts)), affine, table),
                 shape.parts[0].volume_mm3)


def _fraction(sdf: Sdf, centres: Points, distance: npt.NDArray[np.float64],
              step: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Fraction of each voxel inside: supersampled (~0.25 mm) where the surface may cross it."""
    fraction = (distance < 0).astype(np.float64)
    near = np.flatnonzero(np.abs(distance) < 0.5 * float(np.linalg.norm(step)))
    per_axis = np.maximum(np.ceil(step / 0.25).astype(int), 1)
    offsets = np.stack(np.meshgrid(*[((np.arange(n) + 0.5) / n - 0.5) * s
                                     for n, s in zip(per_axis, step, strict=True)],
                                   indexing="ij"), -1).reshape(-1, 3)
    for start in range(0, len(near), max(1, 2_000_000 // len(offsets))):
        chunk = near[start:start + max(1, 2_000_000 // len(offsets))]
        samples = (centres[chunk, None, :] + offsets[None]).reshape(-1, 3)
        fraction[chunk] = (sdf(samples) < 0).reshape(len(chunk), -1).mean(axis=1)
    return fraction
