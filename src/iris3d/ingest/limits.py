"""The limits a study is read under, and the size checks shared by every reader, applied before
any voxel is read."""

from __future__ import annotations

import math
from dataclasses import dataclass

from iris3d.ingest.errors import NotAVolumeError, TooLargeError
from iris3d.settings import Settings


@dataclass(frozen=True)
class ReadLimits:
    """How large a study (or a segmentation, or a model archive) may be.

    The service layers (jobs, api, cli) make it from the settings they were given and pass it
    down; nothing below them reads settings, so a worker's limits are those of its settings
    object, never of the environment it runs in.
    """

    max_voxels: int
    max_unpacked_bytes: int
    max_archive_members: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(settings.max_voxels, settings.max_unpacked_bytes, settings.max_archive_members)

    @classmethod
    def defaults(cls) -> ReadLimits:
        """The settings' defaults, not the environment's (for scripts and tests)."""
        return cls.from_settings(Settings.model_construct())


def check_volume_shape(shape: tuple[int, ...], max_voxels: int) -> tuple[int, int, int]:
    """A 3D shape from a file's header; 4D is accepted only with a single volume."""
    dims = tuple(int(d) for d in shape)
    if len(dims) == 4 and dims[3] == 1:
        dims = dims[:3]
    if len(dims) == 5 and dims[3] == 1 and dims[4] == 1:
        dims = dims[:3]
    if len(dims) < 3 or (len(dims) == 3 and 1 in dims):
        raise NotAVolumeError(f"expected a 3D volume, got a 2D image of shape {dims}")
    if len(dims) > 3:
        raise NotAVolumeError(
            f"expected a single 3D volume, got shape {dims} ({math.prod(dims[3:])} volumes)"
        )
    if min(dims) < 1:
        raise NotAVolumeError(f"the image has an empty dimension: shape {dims}")
    voxels = math.prod(dims)
    if voxels > max_voxels:
        raise TooLargeError(
            f"the volume has {voxels:,} voxels {dims}, more than the limit of {max_voxels:,} "
            "(IRIS_MAX_VOXELS)"
        )
    return (dims[0], dims[1], dims[2])
