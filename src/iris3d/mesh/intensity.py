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
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter
from scipy.sparse import csr_matrix

from iris3d.mesh.ctsample import Reader, ct_reader
from iris3d.mesh.measure import face_normals, vertex_normals
from iris3d.mesh.medians import median, robust_std, sample
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
_FULL_RESOLUTION_VOXELS = 1 << 21  # larger boxes: their levels read on every second voxel
_MIXED_SURROUNDINGS = 6.0  # noises between the ring's 10th and 90th percentiles: two tissues
_QUIET_CONTRAST_TO_NOISE = 30.0  # above this (bone, contrast) the moves are used unaveraged
_CUBIC_CONTRAST_TO_NOISE = 10.0  # from this on the CT is read by a cubic spline (ctsample.py)
_CUBIC_VOXEL_MM = 1.0  # ... where a voxel is at least this long along some axis


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
        read = ct_reader(self.ct, v @ self.to_index[:3, :3].T + self.to_index[:3, 3],
                         np.abs(self.to_index[:3, :3] @ self.cell_axes_mm).sum(axis=1),
                         cubic=self._cubic)
        # Thick slices or coarse labels: the normals of the label surface are far off, so
        # search again along the corrected ones.
        if cells.max() >= 2.0 * cells.min() or self.coarse:
            # Coarse labels' first pass corrects each vertex on its own: averaging the
            # profiles of neighbours a block apart would keep the blocks' terraces.
            v = self._step(v, f, read, 1.0, averaged=not self.coarse)
            return self._step(v, f, read, 0.5, averaged=True)
        return self._step(v, f, read, 1.0, averaged=True)

    @property
    def _cubic(self) -> bool:
        """Whether the CT is read by a cubic spline (see :mod:`iris3d.mesh.ctsample`): for a
        clear contrast, where a voxel spans a millimetre or more along some axis (finer, the
        linear reading's ripple is under a tenth of a millimetre, and the spline's prefilter
        would run over many more voxels)."""
        voxel_mm = np.linalg.norm(np.linalg.inv(self.to_index[:3, :3]), axis=0)
        return bool(self.contrast_to_noise >= _CUBIC_CONTRAST_TO_NOISE
                    and voxel_mm.max() >= _CUBIC_VOXEL_MM)

    def _step(self, v: Vertices, f: Faces, read: Reader, scale: float, averaged: bool
              ) -> Vertices:
        normals = vertex_normals(v, f).astype(np.float64)
        # A label cell's extent along the normal either side: the label boundary lies within
        # half a cell of the truth, and the smoothed surface within about as much of the labels.
        reach = scale * (np.abs(normals @ self.cell_axes_mm) @ np.ones(3))
        steps = np.linspace(-1.0, 1.0, _SAMPLES)
        offsets = reach[:, None] * steps[None, :]  # mm along the normal, (N, S)
        points = v[:, None, :] + offsets[..., None] * normals[:, None, :]
        ijk = points.reshape(-1, 3) @ self.to_index[:3, :3].T + self.to_index[:3, 3]
        profiles = read(ijk).reshape(len(v), _SAMPLES)
        outside = np.full((len(v), 1), self.outside_hu)
        if self.farther_hu is not None:
            # Where a vertex's profile ends in the farther tissue, its mid level is half-way
            # to that one.
            split = 0.5 * (self.outside_hu + self.farther_hu)
            ends = profiles[:, -2:].mean(axis=1)
            outside[(ends - split) * (self.outside_hu - split) < 0, 0] = self.farther_hu
        level = (profiles - outside) / (self.inside_hu - outside)
        rounds = self.profile_rounds if averaged else 0
        w = umbrella_operator(f, len(v))
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
    read = _BoxReading.of(ct[box], labels[box], label)
    if read.count < 2:
        return None
    cells = np.ones(3) if voxels_per_cell is None else np.asarray(voxels_per_cell)
    coarse = bool(cells.max() >= 2.0)
    levels = _levels(read, affine, cells if coarse else None)
    if levels is None:
        return None
    inside, outside, farther, noise, whole = levels
    least = _MIN_CONTRAST_TO_NOISE_COARSE if coarse else _MIN_CONTRAST_TO_NOISE
    # Not finite (a float scan with holes in it): the CT cannot say, keep the labels' surface.
    if not np.isfinite([inside, outside, noise]).all() or not (
            abs(inside - outside) >= least * max(noise, 1.0)):
        return None
    # A diluted inside level would count every boundary voxel as too full.
    voxels = _partial_volume(read, label, inside, outside, noise, farther) if whole else None
    if voxels is not None and not np.isfinite(voxels):
        return None
    to_index = np.asarray(np.linalg.inv(affine), dtype=np.float64)
    return IntensityGuide(ct=ct, to_index=to_index, cell_axes_mm=affine[:3, :3] * cells,
                          inside_hu=inside, outside_hu=outside, noise_hu=max(noise, 1.0),
                          coarse=coarse, farther_hu=farther,
                          volume_mm3=None if voxels is None else
                          voxels * abs(float(np.linalg.det(affine[:3, :3]))))


@dataclass(frozen=True, eq=False)
class _BoxReading:
    """One structure's box as the levels and the partial volume read it: large boxes on every
    second voxel (``sampled``; their shells, two voxels thick there, read one voxel in eight),
    copied once into compact arrays (morphology on a strided view of the volume is several
    times slower than on its copy), and the structure's voxel count in the whole box."""

    hu: npt.NDArray[np.generic]
    labels: npt.NDArray[np.integer]
    mask: npt.NDArray[np.bool_]
    count: int
    sampled: bool
    scale: float = 1.0  # voxels of the box per voxel read

    @property
    def step(self) -> int:
        """Voxels of the box per voxel read along each axis."""
        return 2 if self.sampled else 1

    @classmethod
    def of(cls, hu: npt.NDArray[np.generic], labels: npt.NDArray[np.integer],
           label: int) -> _BoxReading:
        if labels.size <= _FULL_RESOLUTION_VOXELS:
            mask = labels == label
            return cls(hu, labels, mask, int(np.count_nonzero(mask)), False)
        count = int(np.count_nonzero(labels == label))
        step = (slice(None, None, 2),) * 3
        # order="K": the copy keeps the volume's own layout (a transposing copy is slow).
        few = labels[step].copy(order="K")
        return cls(hu[step].copy(order="K"), few, few == label, count, True,
                   labels.size / few.size)

    @cached_property
    def grown(self) -> npt.NDArray[np.bool_]:
        """The mask and its 6-neighbours (the levels and the partial volume both need it)."""
        return _grown(self.mask)

    @cached_property
    def shrunk(self) -> npt.NDArray[np.bool_]:
        """The mask where all its 6-neighbours are in it too."""
        return _shrunk(self.mask)


def _partial_volume(read: _BoxReading, label: int, inside: float, outside: float,
                    noise: float, farther: float | None = None) -> float:
    """The structure's volume in voxels, from the CT: the voxels on either side of its
    boundary count their share of the contrast; the core counts whole. A share within three
    noises of [0, 1] counts as it is: clipping it would bias a faint structure's count (its
    noisy outside voxels would count more than none, its inside ones less than whole). Past
    that it is another tissue, clipped to [0, 1], so that a brighter or darker neighbour counts
    as no more or less than none (voxels of other structures count nothing). Where the
    surroundings are two tissues, a voxel past the nearer one's HU (towards the farther one)
    counts its share of the contrast to the farther one. A sampled box counts each voxel read
    for the ones it stands for."""
    mask = read.mask
    inner = mask & ~read.shrunk
    band = (read.grown & ~mask) | inner
    owner = read.labels[band]
    values = read.hu[band][(owner == label) | (owner == 0)].astype(np.float32)
    fraction = (values - outside) / (inside - outside)
    if farther is not None:
        beyond = fraction < 0
        fraction[beyond] = np.clip((values[beyond] - farther) / (inside - farther), 0.0, 1.0)
    spread = 3.0 * max(noise, 1.0) / abs(inside - outside)
    noisy = (fraction > -spread) & (fraction < 1.0 + spread)
    fraction = np.where(noisy, fraction, np.clip(fraction, 0.0, 1.0))
    return float(read.count) + read.scale * (float(fraction.sum()) - np.count_nonzero(inner))


def _levels(read: _BoxReading, affine: npt.NDArray[np.float64],
            cells: npt.NDArray[np.float64] | None = None
            ) -> tuple[float, float, float | None, float, bool] | None:
    """The structure's HU inside and outside, the noise inside, and whether its core is
    whole (False: only within the slices, thinner than them across: its HU is then diluted
    by the slice's partial volume); None when it has no core at all (its own HU is unknown,
    and so is the mid level).

    The voxels next to the boundary are partly both: the surroundings are read a voxel
    further out and the inside a voxel further in. A sampled box (every second voxel) is read
    one step out and in (one step there is two voxels: the same shells, an eighth of the work).
    Coarse labels (``cells``: voxels per label cell along each axis) can be half a cell off the
    truth: their surroundings are read a cell further out, past the structure's own partial
    volume (which would otherwise pass for a second, brighter tissue).
    """
    hu, mask = read.hu, read.mask
    if read.sampled:
        ring = read.grown & ~mask
        interior = read.shrunk
    else:
        ring = _grown(read.grown) & ~read.grown
        interior = _shrunk(read.shrunk)
    if cells is not None:
        steps = np.maximum(np.round(np.asarray(cells) / read.step).astype(int), 1)
        beyond = _grown_along(ring | read.grown, steps)
        ring = _grown(beyond) & ~beyond
    whole = bool(np.count_nonzero(interior) >= 8)
    if not whole and not read.sampled and np.count_nonzero(read.shrunk) >= 8:
        interior, whole = read.shrunk, True
    if not whole:
        interior = _shrunk(mask, _fine_axes(affine))
    if np.count_nonzero(ring) < 8 or np.count_nonzero(interior) < 8:
        return None
    inside = median(sample(hu, interior))
    noise = min(_noise(hu, interior, axis) for axis in range(3))
    return inside, *_surroundings(sample(hu, ring), inside, noise), noise, whole


def _surroundings(ring: npt.NDArray[np.generic], inside: float, noise: float
                  ) -> tuple[float, float | None]:
    """The HU around a structure: the ring's median; or where it holds two tissues far apart
    (a rib between lung and muscle: the 10th and 90th percentiles more than 6 noises apart),
    the medians of the one nearer the structure's own HU and of the farther one. With the
    ring's median alone, a rib's mid level could lie below muscle's HU: its boundary would
    be put in the muscle and the muscle's voxels counted as partly rib."""
    values = np.asarray(ring, dtype=np.float32)
    if not np.isfinite(values).all():  # a float scan with holes: the caller gives up on it
        return median(ring), None
    low, high = np.percentile(values, [10.0, 90.0])
    if high - low <= _MIXED_SURROUNDINGS * max(noise, 1.0):
        return median(ring), None
    split = 0.5 * (low + high)
    brighter, darker = ring[values > split], ring[values <= split]
    nearer, farther = (brighter, darker) if inside > split else (darker, brighter)
    near, far = median(nearer), median(farther)
    # Only a tissue past the nearer one (lung beyond a bright rib's muscle) is blended into
    # differently; a neighbour brighter than the structure is not a tissue it fades into.
    return near, (far if (inside - near) * (near - far) > 0 else None)


def _noise(hu: npt.NDArray[np.generic], where: npt.NDArray[np.bool_], axis: int) -> float:
    """The scanner's noise inside: from the differences of neighbouring voxels along ``axis``,
    which a tissue's texture, smooth at the voxel's scale, hardly changes (bone's marrow and
    cortex differ by hundreds of HU; its noise does not). The caller takes the least over the
    axes: along a thin bone's length its cortex does not change at all."""
    hu, where = np.moveaxis(hu, axis, -1), np.moveaxis(where, axis, -1)
    pairs = where[:, :, 1:] & where[:, :, :-1]
    if np.count_nonzero(pairs) < 8:
        return robust_std(sample(hu, where))
    # The pairs first, then their differences: not the whole box converted twice per axis.
    exact = np.int32 if hu.dtype.kind in "iu" and hu.dtype.itemsize <= 2 else np.float32
    steps = hu[:, :, 1:][pairs].astype(exact) - hu[:, :, :-1][pairs].astype(exact)
    return robust_std(steps[:: max(1, len(steps) // 200_000)]) / float(np.sqrt(2.0))


def _grown(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``mask`` and its 6-neighbours (a dilation by slicing: no kernel, no copies per axis)."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    out[:, :, 1:] |= mask[:, :, :-1]
    out[:, :, :-1] |= mask[:, :, 1:]
    return out


def _grown_along(mask: npt.NDArray[np.bool_], steps: npt.NDArray[np.integer]
                 ) -> npt.NDArray[np.bool_]:
    """``mask`` dilated ``steps[a]`` voxels along each axis ``a`` (a box, not a ball: scipy
    filters a box one axis at a time)."""
    grown: npt.NDArray[np.bool_] = maximum_filter(
        mask.view(np.uint8), size=tuple(int(2 * n + 1) for n in steps)).view(bool)
    return grown


def _shrunk(mask: npt.NDArray[np.bool_], axes: tuple[int, ...] = (0, 1, 2)
            ) -> npt.NDArray[np.bool_]:
    """``mask`` where all its neighbours along ``axes`` are too (outside the box is not)."""
    out = mask.copy()
    for axis in axes:
        view = np.moveaxis(out, axis, 0)
        source = np.moveaxis(mask, axis, 0)
        view[1:] &= source[:-1]
        view[:-1] &= source[1:]
        view[0] = False
        view[-1] = False
    return out


def _fine_axes(affine: npt.NDArray[np.float64]) -> tuple[int, ...]:
    """The axes that are not across thick slices (a structure a slice or two thick still has
    a core within its slices)."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    return tuple(a for a in range(3) if spacing[a] < 1.5 * spacing.min())
