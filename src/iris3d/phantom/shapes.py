"""The phantom's anatomy: simple solids placed like the real organs, in body-relative coordinates.

Coordinates are fractions of the body: ``u`` across the patient (+1 = patient's right edge),
``v`` front to back (+1 = anterior surface), ``w`` along the table (+1 = top slice). Right-side
organs sit at ``u > 0`` because RAS+ x points to the patient's right.
"""

from __future__ import annotations

from dataclasses import dataclass

HU_AIR = -1000
HU_LUNG = -850
HU_FAT = -100
HU_SOFT = 40
HU_BLOOD = 50
HU_BONE = 700


@dataclass(frozen=True)
class Solid:
    """An ellipsoid (or an elliptic cylinder when ``cylinder``) holding one structure."""

    name: str
    centre: tuple[float, float, float]
    radii: tuple[float, float, float]
    hu: int
    cylinder: bool = False


# Painted in order: later solids overwrite earlier ones where they overlap.
ORGANS: tuple[Solid, ...] = (
    # Right lung is larger than the left, which shares the chest with the heart.
    Solid("lung_right", (0.45, 0.05, 0.45), (0.36, 0.55, 0.42), HU_LUNG),
    Solid("lung_left", (-0.47, 0.05, 0.48), (0.28, 0.50, 0.36), HU_LUNG),
    Solid("heart", (-0.12, 0.35, 0.20), (0.22, 0.25, 0.16), HU_BLOOD),
    Solid("trachea", (0.0, 0.25, 0.80), (0.06, 0.08, 0.22), HU_AIR, cylinder=True),
    Solid("esophagus", (0.04, -0.05, 0.55), (0.05, 0.06, 0.35), HU_SOFT - 5, cylinder=True),
    Solid("aorta", (-0.10, 0.02, 0.05), (0.07, 0.09, 0.60), HU_BLOOD, cylinder=True),
    Solid("liver", (0.42, 0.15, -0.22), (0.40, 0.55, 0.20), HU_SOFT + 15),
    Solid("gallbladder", (0.35, 0.55, -0.33), (0.07, 0.08, 0.06), HU_SOFT - 30),
    Solid("spleen", (-0.62, -0.20, -0.18), (0.16, 0.22, 0.12), HU_SOFT + 5),
    Solid("stomach", (-0.35, 0.40, -0.22), (0.22, 0.22, 0.12), HU_SOFT - 10),
    Solid("pancreas", (-0.05, 0.20, -0.40), (0.25, 0.07, 0.05), HU_SOFT),
    # The left kidney sits higher than the right, as in most people.
    Solid("kidney_right", (0.38, -0.40, -0.55), (0.12, 0.16, 0.13), HU_SOFT - 5),
    Solid("kidney_left", (-0.38, -0.40, -0.48), (0.12, 0.16, 0.13), HU_SOFT - 5),
    Solid("urinary_bladder", (0.0, 0.45, -0.88), (0.18, 0.16, 0.08), HU_SOFT - 30),
    Solid("spinal_cord", (0.0, -0.50, 0.0), (0.04, 0.04, 0.95), HU_SOFT - 10, cylinder=True),
)

BODY_RADII = (0.84, 0.64)  # of the field of view's half-width and half-depth
FAT_THICKNESS = 0.08  # of the body's radius
BODY_WALL = 0.05  # muscle between the fat and the organs, of the body's radius
SPINE_CENTRE_UV = (0.0, -0.33)
SPINE_RADII_UV = (0.11, 0.11)
SPINE_SPAN_W = (-0.95, 0.95)
LUNG_LOBES = {
    # lung -> (lobe names from inferior to superior, their upper boundaries in w)
    "lung_right": (
        ("lung_lower_lobe_right", "lung_middle_lobe_right", "lung_upper_lobe_right"),
        (0.30, 0.50),
    ),
    "lung_left": (("lung_lower_lobe_left", "lung_upper_lobe_left"), (0.42,)),
}
# TotalSegmentator's vertebrae from the bottom of the spine upwards.
VERTEBRAE_BOTTOM_UP: tuple[str, ...] = (
    "vertebrae_S1",
    *(f"vertebrae_L{n}" for n in range(5, 0, -1)),
    *(f"vertebrae_T{n}" for n in range(12, 0, -1)),
    *(f"vertebrae_C{n}" for n in range(7, 0, -1)),
)
