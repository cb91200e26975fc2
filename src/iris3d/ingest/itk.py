"""NRRD and MetaImage (.nrrd, .nhdr, .mha, .mhd) through SimpleITK, after Iris has read the header
itself: which files hold the voxels (:mod:`iris3d.ingest.itk_header`), and whether they really
hold as many bytes as the header claims, are settled before SimpleITK allocates anything."""

from __future__ import annotations

import bz2
import logging
import math
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import SimpleITK as sitk

from iris3d.geometry import affine_from_direction, lps_to_ras, reorient_to_ras
from iris3d.ingest.checks import check_affine, check_expansion, replace_non_finite
from iris3d.ingest.errors import CorruptFileError, NotAVolumeError, UnsupportedFormatError
from iris3d.ingest.hounsfield import looks_like_ct, to_hounsfield
from iris3d.ingest.itk_header import Detached, ItkHeader, check_references, read_itk_header
from iris3d.ingest.limits import check_volume_shape
from iris3d.scrub import scrub
from iris3d.volume import CTVolume, StudyMetadata

log = logging.getLogger(__name__)
_CHUNK = 1 << 20
_IO = {"nrrd": "NrrdImageIO", "metaimage": "MetaImageIO"}
_COMPONENT_BYTES = {
    sitk.sitkUInt8: 1, sitk.sitkInt8: 1, sitk.sitkUInt16: 2, sitk.sitkInt16: 2,
    sitk.sitkUInt32: 4, sitk.sitkInt32: 4, sitk.sitkUInt64: 8, sitk.sitkInt64: 8,
    sitk.sitkFloat32: 4, sitk.sitkFloat64: 8,
}


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


def load_itk(path: Path, max_voxels: int, detached: Detached = Detached.REFUSE) -> CTVolume:
    header = read_itk_header(path)
    data_files = check_references(path, header, detached)
    reader = sitk.ImageFileReader()
    reader.SetImageIO(_IO[header.kind])  # never another reader chosen by the file's content
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as e:
        log.info("SimpleITK could not read an image header: %s", scrub(e, hide=[path.name]))
        raise UnsupportedFormatError(f"{path.name}: the image header cannot be read") from e
    component_bytes = _check_voxel_type(reader, path.name)
    if reader.GetDimension() != 3:
        raise NotAVolumeError(f"{path.name}: expected a 3D image, got {reader.GetDimension()}D")
    shape = check_volume_shape(tuple(reader.GetSize()), max_voxels)
    _check_data_present(path, header, data_files, math.prod(shape), component_bytes)
    try:
        image = reader.Execute()
    except RuntimeError as e:
        log.info("SimpleITK could not read an image's voxels: %s", scrub(e, hide=[path.name]))
        raise CorruptFileError(f"{path.name}: the image data could not be read") from e
    return _volume(path, image)


def _check_voxel_type(reader: sitk.ImageFileReader, name: str) -> int:
    pixel = reader.GetPixelID()
    if pixel in (sitk.sitkComplexFloat32, sitk.sitkComplexFloat64):
        raise UnsupportedFormatError(f"{name}: complex-valued voxels; Iris reads real numbers")
    if reader.GetNumberOfComponents() != 1:
        raise NotAVolumeError(
            f"{name}: has {reader.GetNumberOfComponents()} components per voxel (colour or "
            "vector data); expected a single-channel CT"
        )
    if pixel not in _COMPONENT_BYTES:
        raise UnsupportedFormatError(f"{name}: this voxel type is not supported")
    return _COMPONENT_BYTES[pixel]


def _check_data_present(
    path: Path, header: ItkHeader, files: list[Path], voxels: int, component_bytes: int
) -> None:
    """The voxel data must be really there before SimpleITK allocates room for it."""
    needed = voxels * component_bytes
    attached = files == [path]
    available = (path.stat().st_size - header.data_offset if attached
                 else sum(f.stat().st_size for f in files))
    encoding = header.encoding
    if encoding == "raw":
        enough = available >= needed
    elif encoding == "ascii":
        enough = available >= 2 * voxels - 1  # a digit and a separator per value at least
    elif encoding == "hex":
        enough = available >= 2 * needed
    elif encoding in ("gzip", "bzip2", "zlib"):
        check_expansion(needed, available, path.name)
        starts = [(f, header.data_offset if attached else 0) for f in files]
        enough = _decompresses_to(starts, encoding, needed)
    else:
        raise UnsupportedFormatError(f"{path.name}: data encoding {encoding!r} is not supported")
    if not enough:
        raise CorruptFileError(
            f"{path.name}: the header describes {needed:,} bytes of image but the data holds "
            "fewer: it is truncated"
        )


def _new_decompressor(encoding: str) -> _Decompressor:
    if encoding == "bzip2":
        return bz2.BZ2Decompressor()
    return zlib.decompressobj(31 if encoding == "gzip" else 15)


def _decompresses_to(starts: list[tuple[Path, int]], encoding: str, needed: int) -> bool:
    """Whether the compressed streams hold ``needed`` bytes, counted a chunk at a time."""
    total = 0
    for path, offset in starts:
        with path.open("rb") as f:
            f.seek(offset)
            total += _count(f.read, _new_decompressor(encoding), needed - total)
        if total >= needed:
            return True
    return False


def _count(read: Callable[[int], bytes], decompressor: _Decompressor, wanted: int) -> int:
    try:
        if isinstance(decompressor, bz2.BZ2Decompressor):
            return _count_bz2(read, decompressor, wanted)
        return _count_zlib(read, decompressor, wanted)
    except (zlib.error, OSError, EOFError, ValueError):
        return 0  # damaged data: SimpleITK would fail on it anyway, so refuse it here


def _count_zlib(read: Callable[[int], bytes], decompressor: _Decompressor, wanted: int) -> int:
    count = 0
    while count < wanted and (chunk := read(_CHUNK)):
        while chunk and count < wanted:
            count += len(decompressor.decompress(chunk, _CHUNK))
            chunk = decompressor.unconsumed_tail  # type: ignore[attr-defined]
    return count


def _count_bz2(read: Callable[[int], bytes], decompressor: bz2.BZ2Decompressor, wanted: int) -> int:
    count = 0
    while count < wanted and not decompressor.eof:
        data = read(_CHUNK) if decompressor.needs_input else b""
        if decompressor.needs_input and not data:
            break
        count += len(decompressor.decompress(data, _CHUNK))
    return count


def _volume(path: Path, image: sitk.Image) -> CTVolume:
    # SimpleITK gives (z, y, x); Iris indexes (i, j, k) = (x, y, z).
    stored = sitk.GetArrayViewFromImage(image).transpose(2, 1, 0)
    affine_lps = affine_from_direction(image.GetOrigin(), image.GetSpacing(), image.GetDirection())
    check_affine(affine_lps, path.name)
    hu, non_finite = replace_non_finite(to_hounsfield(np.ascontiguousarray(stored)))
    array, affine = reorient_to_ras(hu, lps_to_ras(affine_lps))
    warnings = [f"{path.suffix.lstrip('.').upper()} carries no modality: assumed to be CT"]
    if non_finite:
        warnings.append(non_finite)
    if not looks_like_ct(array):
        warnings.append("the values do not look like Hounsfield units (no air near -1000 HU)")
    metadata = StudyMetadata(
        source_format=path.suffix.lower().lstrip("."),
        number_of_slices=int(array.shape[2]),
        slice_thickness_mm=float(np.linalg.norm(affine[:3, 2])),
        warnings=tuple(warnings),
    )
    return CTVolume(array=array, affine=affine, metadata=metadata,  # type: ignore[arg-type]
                    native_affine=lps_to_ras(affine_lps))
