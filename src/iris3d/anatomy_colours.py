"""Iris's anatomical colour conventions: veins blue, arteries red, bone ivory, organs distinct.

Written for Iris with 3D Slicer's ``GenericAnatomyColors`` and TotalSegmentator's published
colours as the reference a clinician's eye is trained on, but chosen so that neighbours that
look alike in those tables (liver, aorta, kidneys, back muscles) are told apart here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

Colour = tuple[int, int, int]

BONE: Colour = (238, 226, 196)  # ivory
ARTERY: Colour = (216, 40, 44)
VEIN: Colour = (46, 98, 204)

# Organs by name (left and right share a colour: the tree names the side).
ORGANS: Mapping[str, Colour] = {
    "liver": (140, 70, 48),
    "spleen": (157, 108, 162),
    "gallbladder": (120, 160, 70),
    "stomach": (210, 140, 160),
    "pancreas": (245, 200, 110),
    "esophagus": (210, 160, 130),
    "duodenum": (240, 190, 150),
    "small_bowel": (245, 185, 165),
    "colon": (200, 150, 110),
    "kidney": (242, 158, 82),
    "kidney_cyst": (250, 230, 160),
    "adrenal_gland": (250, 210, 60),
    "urinary_bladder": (220, 200, 90),
    "prostate": (220, 140, 160),
    "heart": (160, 60, 110),
    "atrial_appendage": (200, 70, 90),
    "lung": (170, 210, 235),
    "trachea": (190, 235, 255),
    "thyroid_gland": (200, 120, 190),
    "brain": (250, 240, 225),
    "spinal_cord": (244, 214, 49),
    "autochthon": (172, 110, 100),  # back muscles: muted, apart from aorta and liver
    "gluteus": (180, 100, 90),
    "iliopsoas": (190, 115, 100),
}

_VEIN = re.compile(r"(vein|vena)")
_ARTERY = re.compile(r"(aorta|artery|arteries|brachiocephalic_trunk)")


def anatomical_colour(name: str, group: str) -> Colour | None:
    """The colour Iris's conventions give ``name`` (in ``group``), or None when they say none.

    Laterality (``_left``/``_right``) and lobes are stripped before the organ lookup."""
    if _VEIN.search(name):
        return VEIN
    if _ARTERY.search(name):
        return ARTERY
    if group == "skeleton":
        return BONE
    base = re.sub(r"_(left|right)$", "", name)
    for key in (base, re.sub(r"_(upper|middle|lower)_lobe$", "", base)):
        if key in ORGANS:
            return ORGANS[key]
    for key, colour in ORGANS.items():
        if base.startswith(key):
            return colour
    return None
