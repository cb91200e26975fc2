"""Iris's own table of anatomical structures: name, label id, body-system group, display colour.

Ids and names follow TotalSegmentator's ``total`` task (v2), so its output and Iris's phantoms
share one vocabulary; Iris keeps its own copy so it works without that package installed.
Other engines (the tissue engine, imported masks) bring their own :class:`LabelTable`; any name
known here gets its group and colour from here.
"""

from __future__ import annotations

import colorsys
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from iris3d.anatomy_colours import anatomical_colour

GROUPS: tuple[str, ...] = (
    "skeleton",
    "cardiovascular",
    "respiratory",
    "digestive",
    "urinary",
    "muscles",
    "nervous",
    "other",
)

Colour = tuple[int, int, int]

_TOTAL_NAMES: tuple[tuple[int, str], ...] = (
    (1, "spleen"),
    (2, "kidney_right"),
    (3, "kidney_left"),
    (4, "gallbladder"),
    (5, "liver"),
    (6, "stomach"),
    (7, "pancreas"),
    (8, "adrenal_gland_right"),
    (9, "adrenal_gland_left"),
    (10, "lung_upper_lobe_left"),
    (11, "lung_lower_lobe_left"),
    (12, "lung_upper_lobe_right"),
    (13, "lung_middle_lobe_right"),
    (14, "lung_lower_lobe_right"),
    (15, "esophagus"),
    (16, "trachea"),
    (17, "thyroid_gland"),
    (18, "small_bowel"),
    (19, "duodenum"),
    (20, "colon"),
    (21, "urinary_bladder"),
    (22, "prostate"),
    (23, "kidney_cyst_left"),
    (24, "kidney_cyst_right"),
    (25, "sacrum"),
    (26, "vertebrae_S1"),
    (27, "vertebrae_L5"),
    (28, "vertebrae_L4"),
    (29, "vertebrae_L3"),
    (30, "vertebrae_L2"),
    (31, "vertebrae_L1"),
    (32, "vertebrae_T12"),
    (33, "vertebrae_T11"),
    (34, "vertebrae_T10"),
    (35, "vertebrae_T9"),
    (36, "vertebrae_T8"),
    (37, "vertebrae_T7"),
    (38, "vertebrae_T6"),
    (39, "vertebrae_T5"),
    (40, "vertebrae_T4"),
    (41, "vertebrae_T3"),
    (42, "vertebrae_T2"),
    (43, "vertebrae_T1"),
    (44, "vertebrae_C7"),
    (45, "vertebrae_C6"),
    (46, "vertebrae_C5"),
    (47, "vertebrae_C4"),
    (48, "vertebrae_C3"),
    (49, "vertebrae_C2"),
    (50, "vertebrae_C1"),
    (51, "heart"),
    (52, "aorta"),
    (53, "pulmonary_vein"),
    (54, "brachiocephalic_trunk"),
    (55, "subclavian_artery_right"),
    (56, "subclavian_artery_left"),
    (57, "common_carotid_artery_right"),
    (58, "common_carotid_artery_left"),
    (59, "brachiocephalic_vein_left"),
    (60, "brachiocephalic_vein_right"),
    (61, "atrial_appendage_left"),
    (62, "superior_vena_cava"),
    (63, "inferior_vena_cava"),
    (64, "portal_vein_and_splenic_vein"),
    (65, "iliac_artery_left"),
    (66, "iliac_artery_right"),
    (67, "iliac_vena_left"),
    (68, "iliac_vena_right"),
    (69, "humerus_left"),
    (70, "humerus_right"),
    (71, "scapula_left"),
    (72, "scapula_right"),
    (73, "clavicula_left"),
    (74, "clavicula_right"),
    (75, "femur_left"),
    (76, "femur_right"),
    (77, "hip_left"),
    (78, "hip_right"),
    (79, "spinal_cord"),
    (80, "gluteus_maximus_left"),
    (81, "gluteus_maximus_right"),
    (82, "gluteus_medius_left"),
    (83, "gluteus_medius_right"),
    (84, "gluteus_minimus_left"),
    (85, "gluteus_minimus_right"),
    (86, "autochthon_left"),
    (87, "autochthon_right"),
    (88, "iliopsoas_left"),
    (89, "iliopsoas_right"),
    (90, "brain"),
    (91, "skull"),
    (92, "rib_left_1"),
    (93, "rib_left_2"),
    (94, "rib_left_3"),
    (95, "rib_left_4"),
    (96, "rib_left_5"),
    (97, "rib_left_6"),
    (98, "rib_left_7"),
    (99, "rib_left_8"),
    (100, "rib_left_9"),
    (101, "rib_left_10"),
    (102, "rib_left_11"),
    (103, "rib_left_12"),
    (104, "rib_right_1"),
    (105, "rib_right_2"),
    (106, "rib_right_3"),
    (107, "rib_right_4"),
    (108, "rib_right_5"),
    (109, "rib_right_6"),
    (110, "rib_right_7"),
    (111, "rib_right_8"),
    (112, "rib_right_9"),
    (113, "rib_right_10"),
    (114, "rib_right_11"),
    (115, "rib_right_12"),
    (116, "sternum"),
    (117, "costal_cartilages"),
)

# Names matched in order; the first pattern that matches decides the group.
_GROUP_RULES: tuple[tuple[str, str], ...] = (
    (r"^(vertebrae_|rib_|sacrum|skull|sternum|costal_cartilages|hip_|femur_|humerus_|scapula_"
     r"|clavicula_|bone|skeleton)", "skeleton"),
    (r"(heart|aorta|artery|arteries|vein|vena|atrial_appendage|brachiocephalic|blood)",
     "cardiovascular"),
    (r"^(lung|trachea|bronch|airway)", "respiratory"),
    (r"^(esophagus|stomach|small_bowel|duodenum|colon|liver|gallbladder|pancreas|spleen)",
     "digestive"),
    (r"^(kidney|urinary_bladder|adrenal_gland|prostate)", "urinary"),
    (r"(gluteus|autochthon|iliopsoas|muscle)", "muscles"),
    (r"^(brain|spinal_cord)", "nervous"),
)

# The tissue engine's context structures; organs, vessels and bone follow
# iris3d.anatomy_colours; anything else is spread in hue within its group.
_NAMED_COLOURS: Mapping[str, Colour] = {
    "body": (177, 122, 101),
    "subcutaneous_fat": (230, 220, 70),
    "torso_fat": (255, 230, 140),
    "skeletal_muscle": (192, 104, 88),
}

_GROUP_HUES: Mapping[str, tuple[float, float, float]] = {
    # (hue, saturation, value) centre for each group
    "skeleton": (0.12, 0.18, 0.95),
    "cardiovascular": (0.99, 0.65, 0.85),
    "respiratory": (0.56, 0.45, 0.95),
    "digestive": (0.07, 0.50, 0.85),
    "urinary": (0.03, 0.55, 0.75),
    "muscles": (0.01, 0.50, 0.70),
    "nervous": (0.15, 0.60, 0.95),
    "other": (0.75, 0.30, 0.80),
}


@dataclass(frozen=True)
class Structure:
    """One labelled structure: its id in the label map, name, group and display colour (sRGB)."""

    label: int
    name: str
    group: str
    colour: Colour

    @property
    def display_name(self) -> str:
        return self.name.replace("_", " ")

    @property
    def colour_hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.colour)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.label, "name": self.name, "group": self.group, "colour": self.colour_hex}


def group_of(name: str) -> str:
    for pattern, group in _GROUP_RULES:
        if re.search(pattern, name):
            return group
    return "other"


def _spread_colour(group: str, index: int, count: int) -> Colour:
    hue, sat, val = _GROUP_HUES[group]
    offset = ((index / max(count, 1)) - 0.5) * 0.12
    shade = 1.0 - 0.25 * ((index * 7) % max(count, 1)) / max(count, 1)
    r, g, b = colorsys.hsv_to_rgb((hue + offset) % 1.0, sat, val * shade)
    return (round(r * 255), round(g * 255), round(b * 255))


class LabelTable(Mapping[int, Structure]):
    """Label id -> :class:`Structure`, read-only. Id 0 is background and never listed."""

    def __init__(self, structures: Iterable[Structure]) -> None:
        self._by_id: dict[int, Structure] = {}
        for s in structures:
            if s.label <= 0:
                raise ValueError(f"label ids start at 1 (0 is background), got {s.label}")
            if s.label in self._by_id:
                raise ValueError(f"label id {s.label} appears twice")
            self._by_id[s.label] = s
        self._by_name = {s.name: s for s in self._by_id.values()}

    @classmethod
    def from_names(cls, names: Mapping[int, str]) -> LabelTable:
        """A table for these ids and names; groups and colours come from Iris's anatomy."""
        items = sorted(names.items())
        group_members: dict[str, list[int]] = {}
        for label, name in items:
            group_members.setdefault(group_of(name), []).append(label)
        structures = []
        for label, name in items:
            group = group_of(name)
            colour = (
                _NAMED_COLOURS.get(name)
                or anatomical_colour(name, group)
                or _spread_colour(group, group_members[group].index(label),
                                  len(group_members[group]))
            )
            structures.append(Structure(label, name, group, colour))
        return cls(structures)

    @classmethod
    def from_json(cls, text: str) -> LabelTable:
        rows = json.loads(text)
        if isinstance(rows, dict):
            rows = rows.get("labels", rows)
        return cls(
            Structure(int(r["id"]), str(r["name"]), str(r.get("group") or group_of(str(r["name"]))),
                      _parse_colour(r.get("colour")) or _default_colour(str(r["name"])))
            for r in rows
        )

    def to_json(self) -> str:
        return json.dumps({"labels": [s.to_dict() for s in self.values()]}, indent=2)

    def by_name(self, name: str) -> Structure:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no structure named {name!r} in this label table") from None

    def subset(self, labels: Iterable[int]) -> LabelTable:
        return LabelTable(self._by_id[i] for i in labels if i in self._by_id)

    def __getitem__(self, label: int) -> Structure:
        return self._by_id[label]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._by_id))

    def __len__(self) -> int:
        return len(self._by_id)


def _parse_colour(value: object) -> Colour | None:
    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))
    if isinstance(value, list | tuple) and len(value) == 3:
        r, g, b = (int(v) for v in value)
        return (r, g, b)
    return None


def _default_colour(name: str) -> Colour:
    known = total_table()._by_name.get(name)
    if known:
        return known.colour
    return _NAMED_COLOURS.get(name) or anatomical_colour(name, group_of(name)) or (200, 200, 200)


@cache
def total_table() -> LabelTable:
    """TotalSegmentator's ``total`` task: 117 structures."""
    return LabelTable.from_names(dict(_TOTAL_NAMES))
