"""The tissue engine's label table. Names are TotalSegmentator's where it has one (``trachea``
from ``total``, ``lung_left``/``lung_right`` from ``total_mr``, the three ``tissue_types``)."""

from __future__ import annotations

from functools import cache

from iris3d.anatomy import LabelTable

BODY = 1
LUNG_LEFT = 2
LUNG_RIGHT = 3
TRACHEA = 4
BRONCHUS_LEFT = 5
BRONCHUS_RIGHT = 6
SKELETON = 7
SUBCUTANEOUS_FAT = 8
TORSO_FAT = 9
SKELETAL_MUSCLE = 10


@cache
def tissue_table() -> LabelTable:
    return LabelTable.from_names({
        BODY: "body",  # what remains of the body once the other structures are labelled
        LUNG_LEFT: "lung_left",
        LUNG_RIGHT: "lung_right",
        TRACHEA: "trachea",
        BRONCHUS_LEFT: "bronchus_left",
        BRONCHUS_RIGHT: "bronchus_right",
        SKELETON: "skeleton",
        SUBCUTANEOUS_FAT: "subcutaneous_fat",
        TORSO_FAT: "torso_fat",
        SKELETAL_MUSCLE: "skeletal_muscle",
    })
