"""Sub-voxel surfaces from the CT's own partial-volume intensities.

A label map only says on which side of a voxel's centre the boundary lies; the CT says more.
A voxel that the boundary crosses holds a mix of the structure's HU and its surroundings', so
along the surface normal the intensity passes the mid level between the two where the
boundary is (exactly for a flat boundary blurred by any symmetric point-spread function). Each
vertex of the smoothed label surface is moved along its normal to the nearest such crossing,
no further than about one voxel (the label boundary stays the constraint). Where the noise is
not negligible against the contrast, the intensity profiles along the normals are averaged
over the mesh before the crossing is found (averaging the crossings instead keeps their
bias: of several noisy crossings the nearest is taken, which leans to the label surface); a
triangle that would fold over takes its neighbours' moves. The guide also estimates the
structure's volume from the partial volumes of its boundary voxels. Where a structure differs
too little from its surroundings for the CT to tell (low contrast against the noise), or has
no core to read its own HU from, the label surface is kept; labels from a coarser grid (3 mm
cells on a finer CT) are so far off that even a faint contrast, averaged, places them better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import map_coordinates
from scipy.sparse import csr_matrix

from iris3d.mesh.grid import coarser_than_voxels
from iris3d.mesh.levels import BoxReading, partial_volume, read_levels
from iris3d.mesh.measure import face_normals, vertex_normals
from iris3d.mesh.smooth import umbrella_operator

Vertices = npt.NDArray[np.float64]
Faces = npt.NDArray[np.integer]

_MIN_CONTRAST_TO_NOISE = 4.0  # below this the crossing is mostly noise: keep the label surface
# Coarse labels' cells are several voxels: a faint structure's averaged profiles beat them
# (a ball 12 HU above its surroundings, 10 HU of noise: 0.47 mm RMS against the blocks' 0.57).
_MIN_CONTRAST_TO_NOISE_COARSE = 1.0
_MAX_PROFILE_ROUNDS = 32  # about a hundred neighbours' profiles: a few centimetres of surface
_SAMPLES = 17  # points along each normal (every ~1/8 of the search range)
_FOLD_ROUNDS = 6  # rounds of neighbours' means for a folding triangle's corners
_QUIET_CONTRAST_TO_NOISE = 30.0  # above this (bone, contrast) the moves are used unaveraged
_NORMAL_ROUNDS = 2  # rounds of neighbours' means of the normals that the profiles follow


@dataclass(frozen=True, eq=False)
class IntensityGuide:
    """One structure's HU inside and outside, and the CT to read the crossings from.

    ``ct`` is the scan on the label map's grid; ``to_index`` maps RAS mm to its [i, j, k];
    ``cell_axes_mm`` (the affine's linear part, scaled where the labels' own cells span several
    voxels) gives the extent of a label cell along a normal: the search range either side.
    """

    ct: npt.NDArray[np.floating] | npt.NDArray[np.integer]
    to_index: npt.NDArray[np.float64]
    cell_axes_mm: npt.NDArray[np.float64]
    inside_hu: float
    outside_hu: float
    noise_hu: float
    # The partial-volume estimate (each boundary voxel counts its fraction), None where the
    # structure is thinner than the slices (the voxels' volume is restored instead).
    volume_mm3: float | None
    coarse: bool = False  # the labels' cells span several of the CT's voxels
    # The HU of a second, farther tissue around it (a rib's lung beside its muscle), if any.
    farther_hu: float | None = None

    @property
    def contrast_to_noise(self) -> float:
        return abs(self.inside_hu - self.outside_hu) / self.noise_hu

    @property
    def profile_rounds(self) -> int:
        """Rounds of neighbours' means of the profiles: each round averages about three more
        vertices' (a lazy random walk's reach grows with its rounds), so that the noise of the
        mean is about a quiet structure's."""
        ratio = self.contrast_to_noise
        if ratio >= _QUIET_CONTRAST_TO_NOISE:
            return 0
        return min(_MAX_PROFILE_ROUNDS, int(np.ceil((_QUIET_CONTRAST_TO_NOISE / ratio) ** 2)))

    def refine(self, vertices: Vertices, faces: Faces) -> Vertices:
        """``vertices`` moved along their normals to the CT's mid-level crossing: a first pass
        searching a label cell either side, then shorter ones along the corrected normals."""
        v = np.asarray(vertices, dtype=np.float64)
        f = np.asarray(faces)
        if len(v) == 0 or len(f) == 0:
            return v
        cells = np.linalg.norm(self.cell_axes_mm, axis=0)
        # Thick slices or coarse labels: the normals of the label surface are far off, so
        # search again along the corrected ones.
        if cells.max() >= 2.0 * cells.min() or self.coarse:
            # Coarse labels' first pass corrects each vertex on its own: averaging the
            # profiles of neighbours a block apart would keep the blocks' terraces.
            v = self._step(v, f, 1.0, averaged=not self.coarse)
            return self._step(v, f, 0.5, averaged=True)
        return self._step(v, f, 1.0, averaged=True)

    def _step(self, v: Vertices, f: Faces, scale: float, averaged: bool) -> Vertices:
        w = umbrella_operator(f, len(v))
        normals = vertex_normals(v, f).astype(np.float64)
        # Searched along its neighbours' mean normal, a vertex of a thin structure's surface
        # (smoothed little, to keep its shape: still a staircase whose normals point along
        # the axes) looks across the boundary, not along it (a 4 mm vessel at 1.5 mm: 0.209
        # -> 0.094 mm RMS). Not for coarse labels' blocks: no gain on the benchmark, and on
        # a real 3 mm result on a fine grid the ribs' surfaces moved by up to 3 mm.
        for _ in range(0 if self.coarse else _NORMAL_ROUNDS):
            normals += w @ normals
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        # A label cell's extent along the normal either side: the label boundary lies within
        # half a cell of the truth, and the smoothed surface within about as much of the labels.
        reach = scale * (np.abs(normals @ self.cell_axes_mm) @ np.ones(3))
        steps = np.linspace(-1.0, 1.0, _SAMPLES)
        offsets = reach[:, None] * steps[None, :]  # mm along the normal, (N, S)
        points = v[:, None, :] + offsets[..., None] * normals[:, None, :]
        ijk = points.reshape(-1, 3) @ self.to_index[:3, :3].T + self.to_index[:3, 3]
        values = map_coordinates(self.ct, ijk.T, order=1, mode="nearest", prefilter=False)
        profiles = values.reshape(len(v), _SAMPLES)
        outside = np.full((len(v), 1), self.outside_hu)
        if self.farther_hu is not None:
            # Where a vertex's profile ends in the farther tissue, its mid level is half-way
            # to that one.
            split = 0.5 * (self.outside_hu + self.farther_hu)
            ends = profiles[:, -2:].mean(axis=1)
            outside[(ends - split) * (self.outside_hu - split) < 0, 0] = self.farther_hu
        level = (profiles - outside) / (self.inside_hu - outside)
        rounds = self.profile_rounds if averaged else 0
        for _ in range(rounds):
            level = 0.5 * (level + w @ level)
        move, found = _nearest_crossing(level - 0.5, offsets)
        # Crossings found one by one are averaged once where the noise is not negligible.
        once = 0 if averaged or self.contrast_to_noise >= _QUIET_CONTRAST_TO_NOISE else 1
        return _without_folds(v, f, _smoothed(move, found, w, once)[:, None] * normals, w)


def _without_folds(vertices: Vertices, faces: Faces, moves: Vertices, w: csr_matrix
                   ) -> Vertices:
    """``vertices + moves``, where the corners of any triangle that turned more than ~80 degrees
    (a fold, which could make the surface cross itself) take their neighbours' mean move
    (``w``: the umbrella operator) instead, round by round, and finally half of it and none."""
    f = np.asarray(faces)
    before = face_normals(vertices, f)
    m = np.array(moves, dtype=np.float64)
    for round_ in range(_FOLD_ROUNDS + 2):
        moved = vertices + m
        folded = np.einsum("ij,ij->i", face_normals(moved, f), before) < 0.2
        if not folded.any():
            return moved
        corners = np.unique(f[folded])
        if round_ < _FOLD_ROUNDS:
            m[corners] = (w @ m)[corners]
        else:
            m[corners] *= 0.5 if round_ == _FOLD_ROUNDS else 0.0
    result: Vertices = vertices + m
    return result


def _nearest_crossing(signed: npt.NDArray[np.float64], offsets: npt.NDArray[np.float64]
                      ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per row, the offset where ``signed`` (inside positive) falls through 0 going outward,
    nearest the middle, linearly interpolated; ``found`` False where there is none."""
    a, b = signed[:, :-1], signed[:, 1:]
    falls = (a > 0) & (b <= 0)
    middle = 0.5 * (offsets[:, :-1] + offsets[:, 1:])
    score = np.where(falls, np.abs(middle), np.inf)
    best = np.argmin(score, axis=1)
    rows = np.arange(len(signed))
    found = np.isfinite(score[rows, best])
    ta, tb = offsets[rows, best], offsets[rows, best + 1]
    va, vb = a[rows, best], b[rows, best]
    fraction = np.where(found, va / np.where(va - vb > 0, va - vb, 1.0), 0.0)
    return np.where(found, ta + fraction * (tb - ta), 0.0), found


def _smoothed(move: npt.NDArray[np.float64], found: npt.NDArray[np.bool_], w: csr_matrix,
              rounds: int) -> npt.NDArray[np.float64]:
    """Moves averaged over neighbourhoods (``w``: the umbrella operator) ``rounds`` times;
    vertices without a crossing take the mean of their neighbours' (ring by ring; none
    left: no move)."""
    weight = found.astype(np.float64)
    value = move * weight
    for _ in range(rounds):
        value = 0.5 * (value + w @ value)
        weight = 0.5 * (weight + w @ weight)
    known = weight > 1e-6
    result: npt.NDArray[np.float64] = np.divide(value, weight, out=np.zeros_like(value),
                                                where=known)
    for _ in range(32):
        if known.all():
            break
        total, count = w @ np.where(known, result, 0.0), w @ known.astype(np.float64)
        reached = ~known & (count > 0)
        if not reached.any():
            break
        result[reached] = total[reached] / count[reached]
        known |= reached
    return result


def intensity_guide(
    ct: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    labels: npt.NDArray[np.integer],
    affine: npt.NDArray[np.float64],
    label: int,
    surface_ijk: npt.NDArray[np.floating],
    voxels_per_cell: npt.NDArray[np.float64] | None = None,
) -> IntensityGuide | None:
    """The guide for ``label``, whose raw surface has the points ``surface_ijk`` (voxel
    indices), or None where the CT cannot place its boundary better than the labels.
    ``voxels_per_cell``: per axis, where the labels come from a coarser grid (see
    :meth:`iris3d.mesh.grid.LabelCrop.voxels_per_cell`)."""
    if len(surface_ijk) == 0:
        return None
    low = np.maximum(np.floor(surface_ijk.min(axis=0)).astype(int) - 2, 0)
    high = np.minimum(np.ceil(surface_ijk.max(axis=0)).astype(int) + 3, labels.shape)
    box = (slice(low[0], high[0]), slice(low[1], high[1]), slice(low[2], high[2]))
    read = BoxReading.of(ct[box], labels[box], label)
    if read.count < 2:
        return None
    levels = read_levels(read, affine)
    if levels is None:
        return None
    inside, outside, farther, noise, whole = levels
    cells = np.ones(3) if voxels_per_cell is None else np.asarray(voxels_per_cell)
    coarse = coarser_than_voxels(cells)
    least = _MIN_CONTRAST_TO_NOISE_COARSE if coarse else _MIN_CONTRAST_TO_NOISE
    # Not finite (a float scan with holes in it): the CT cannot say, keep the labels' surface.
    if not np.isfinite([inside, outside, noise]).all() or not (
            abs(inside - outside) >= least * max(noise, 1.0)):
        return None
    # A diluted inside level would count every boundary voxel as too full.
    voxels = partial_volume(read, label, inside, outside, farther) if whole else None
    if voxels is not None and not np.isfinite(voxels):
        return None
    to_index = np.asarray(np.linalg.inv(affine), dtype=np.float64)
    return IntensityGuide(ct=ct, to_index=to_index, cell_axes_mm=affine[:3, :3] * cells,
                          inside_hu=inside, outside_hu=outside, noise_hu=max(noise, 1.0),
                          coarse=coarse, farther_hu=farther,
                          volume_mm3=None if voxels is None else
                          voxels * abs(float(np.linalg.det(affine[:3, :3]))))
