"""The anatomical colour table: veins blue, arteries red, bone ivory, look-alike organs apart."""

from __future__ import annotations

import math

from iris3d.anatomy import total_table


def _colours() -> dict[str, tuple[int, int, int]]:
    return {s.name: s.colour for s in total_table().values()}


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return math.dist(a, b)


def test_every_vein_is_bluish_and_every_artery_reddish() -> None:
    colours = _colours()
    veins = [n for n in colours if "vein" in n or "vena" in n]
    arteries = [n for n in colours if "artery" in n or n == "aorta" or "trunk" in n]
    assert "portal_vein_and_splenic_vein" in veins and len(arteries) >= 5
    for name in veins:
        r, g, b = colours[name]
        assert b > r + 60 and b > g + 40, (name, colours[name])
    for name in arteries:
        r, g, b = colours[name]
        assert r > g + 100 and r > b + 100, (name, colours[name])


def test_bones_are_ivory() -> None:
    table = total_table()
    bones = [s for s in table.values() if s.group == "skeleton"]
    assert len(bones) > 40
    for s in bones:
        r, g, b = s.colour
        assert min(r, g, b) > 150 and r >= g >= b and r - b < 80, (s.name, s.colour)


def test_look_alike_neighbours_are_told_apart() -> None:
    colours = _colours()
    apart = ["liver", "aorta", "kidney_left", "autochthon_left", "spleen", "inferior_vena_cava",
             "stomach", "pancreas", "heart"]
    for i, a in enumerate(apart):
        for b in apart[i + 1:]:
            assert _distance(colours[a], colours[b]) > 45, (a, b, colours[a], colours[b])
    assert colours["kidney_left"] == colours["kidney_right"]  # the tree names the side
