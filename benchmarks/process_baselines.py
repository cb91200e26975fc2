"""The baselines of ``process_bench.py``, each run as its own process so it is timed the same way.

``floor CT [LABELS]``: decompress the inputs (nibabel) and one pass over the labels
(``np.bincount``): no pipeline can be faster than reading what it is given.
``naive LABELS OUTDIR [--limit N]``: what a script would do: per label a whole-volume mask,
skimage marching cubes and a trimesh OBJ file. Prints ``meshed M of N labels``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nibabel as nib
import numpy as np


def floor(paths: list[str]) -> None:
    arrays = [np.asarray(nib.load(p).dataobj) for p in paths]  # type: ignore[attr-defined]
    if len(arrays) > 1:
        # In memory order and in 4 M-voxel pieces: the cheapest full pass (no transposing copy,
        # no int64 copy of the whole map), so the floor is not inflated.
        flat = np.ravel(arrays[1], order="K")
        counts = np.zeros(1, dtype=np.int64)
        for start in range(0, flat.size, 1 << 22):
            piece = np.bincount(flat[start:start + (1 << 22)])
            counts = np.pad(counts, (0, max(len(piece) - len(counts), 0)))
            counts[:len(piece)] += piece
        print(f"{np.count_nonzero(counts[1:])} labels")
    else:
        print(f"{arrays[0].size} voxels")


def naive(labels_path: str, out: str, limit: int | None) -> None:
    import trimesh
    from skimage import measure

    image = nib.load(labels_path)
    labels = np.asarray(image.dataobj)  # type: ignore[attr-defined]
    spacing = tuple(float(s) for s in image.header.get_zooms()[:3])  # type: ignore[attr-defined]
    present = [int(i) for i in np.flatnonzero(np.bincount(labels.ravel())) if i]
    folder = Path(out)
    folder.mkdir(parents=True)
    for label in present[:limit]:
        mask = labels == label
        vertices, faces, _, _ = measure.marching_cubes(mask, 0.5, spacing=spacing)
        trimesh.Trimesh(vertices, faces, process=False).export(str(folder / f"{label}.obj"))
    print(f"meshed {len(present[:limit])} of {len(present)} labels")


def main() -> None:
    mode, *rest = sys.argv[1:]
    if mode == "floor":
        floor(rest)
    elif mode == "naive":
        limit = int(rest[3]) if len(rest) > 3 and rest[2] == "--limit" else None
        naive(rest[0], rest[1], limit)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
