"""A NIfTI file read without trusting its header: every claim is checked before it costs memory.

nibabel parses the header; the voxels are read here, in bounded chunks into one buffer, so that

- the declared size is checked against ``max_voxels`` before anything is allocated;
- an uncompressed file must hold the bytes its header declares before they are read;
- a gzip stream that ends early costs only the bytes it really held (the buffer's pages are
  touched as data arrives), never the size the header claims;
- the header and its extensions may occupy at most :data:`MAX_HEADER_BYTES`.

Used for CT studies (:mod:`iris3d.ingest.nifti`) and for label maps and masks
(:mod:`iris3d.imageio.labels`).
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import nibabel as nib
import numpy as np
import numpy.typing as npt

from iris3d.ingest.checks import MIN_SPACING_MM, affine_problem, check_expansion
from iris3d.ingest.errors import (
    CorruptFileError,
    InvalidGeometryError,
    UnsupportedFormatError,
)
from iris3d.ingest.limits import check_volume_shape

MAX_HEADER_BYTES = 16 * 2**20  # header and extensions; label tables need far less
_CHUNK = 16 * 2**20
_PROBE = 64 * 2**20  # real data a compressed file must hold before its full size is reserved
_HEADERS: dict[int, type[nib.Nifti1Header]] = {348: nib.Nifti1Header, 540: nib.Nifti2Header}

NiftiHeader = nib.Nifti1Header | nib.Nifti2Header


@dataclass(frozen=True)
class NiftiFile:
    """A NIfTI file's header and its voxels in the file's own (i, j, k) order."""

    header: NiftiHeader
    stored: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    slope: float
    intercept: float
    warnings: tuple[str, ...]


def read_nifti(path: Path, max_voxels: int, *, ct: bool = False) -> NiftiFile:
    """The checked contents of a ``.nii`` or ``.nii.gz``; an ``IngestError`` names any problem.
    ``ct``: also refuse a compressed file that expands implausibly (a decompression bomb)."""
    name = path.name
    try:
        with _open_stream(path) as stream:
            header, header_bytes = _read_header(stream, name)
            shape = check_volume_shape(tuple(header.get_data_shape()), max_voxels)
            dtype = _voxel_type(header, name)
            affine, warnings = choose_affine(header, name)  # refused before any voxel is read
            slope, intercept = _scaling(header, name)
            needed = math.prod(shape) * dtype.itemsize
            compressed = _is_gzip(path)
            if not compressed:
                _check_file_holds(path, header_bytes + needed)
            elif ct:
                check_expansion(needed, path.stat().st_size, name)
            buffer = _read_exactly(stream, needed, name, _PROBE if compressed else 0)
    except (EOFError, zlib.error, OSError) as e:
        raise CorruptFileError(f"{name}: the file is truncated or corrupt") from e
    stored = buffer.view(dtype).reshape(shape, order="F")
    return NiftiFile(header, stored, affine, slope, intercept, tuple(warnings))


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _open_stream(path: Path) -> BinaryIO:
    if _is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _read_header(stream: BinaryIO, name: str) -> tuple[NiftiHeader, int]:
    """The header with its extensions, and the offset where the voxels start (the stream is
    left there)."""
    first = stream.read(4)
    klass = _header_class(first, name)
    size = int(klass.template_dtype.itemsize)
    block = first + stream.read(size - 4)
    if len(block) < size:
        raise CorruptFileError(f"{name}: the file ends inside its header")
    try:
        bare = klass.from_fileobj(io.BytesIO(block), check=False)  # as written, unfixed
    except Exception as e:  # nibabel raises HeaderDataError, ValueError... for bad fields
        raise CorruptFileError(f"{name}: the NIfTI header is invalid") from e
    if bytes(bare["magic"]).rstrip(b"\x00") not in (b"n+1", b"n+2"):
        raise UnsupportedFormatError(
            f"{name}: a NIfTI header whose voxels are kept in a separate .img file; give a "
            "single .nii or .nii.gz"
        )
    if not np.isfinite(float(bare["vox_offset"])):
        raise CorruptFileError(f"{name}: the header's data offset (vox_offset) is not a number")
    offset = int(bare.get_data_offset())
    if offset > MAX_HEADER_BYTES:
        raise CorruptFileError(
            f"{name}: the header says the voxels start {offset:,} bytes into the file, past the "
            f"{MAX_HEADER_BYTES // 2**20} MiB a NIfTI header may take"
        )
    offset = max(offset, size + 4)
    block += stream.read(offset - size)
    if len(block) < offset:
        raise CorruptFileError(f"{name}: the file ends inside its header")
    zooms = np.asarray(bare["pixdim"][1:4], dtype=np.float64)
    sform_used = int(bare["sform_code"]) > 0
    if not sform_used and (not np.all(np.isfinite(zooms))
                           or float(np.abs(zooms).min()) < MIN_SPACING_MM):
        # nibabel quietly turns a zero voxel size into 1 mm; a size of zero means no geometry
        raise InvalidGeometryError(
            f"{name}: the image geometry is invalid: a voxel spacing (pixdim) is zero or not a "
            "number"
        )
    try:
        header = klass.from_fileobj(io.BytesIO(block))
    except Exception as e:
        raise CorruptFileError(f"{name}: the NIfTI header or its extensions are damaged") from e
    return header, offset


def _header_class(first: bytes, name: str) -> type[nib.Nifti1Header]:
    if len(first) == 4:
        for order in ("<", ">"):
            size = struct.unpack(f"{order}i", first)[0]
            if size in _HEADERS:
                return _HEADERS[size]
    raise UnsupportedFormatError(f"{name}: not a NIfTI file (no NIfTI header)")


def _voxel_type(header: NiftiHeader, name: str) -> np.dtype[np.generic]:
    try:
        dtype = np.dtype(header.get_data_dtype())
    except Exception as e:
        raise UnsupportedFormatError(f"{name}: the voxel type is unknown") from e
    if dtype.fields is not None or dtype.kind == "V":
        raise UnsupportedFormatError(
            f"{name}: colour (RGB) voxels; Iris reads one number per voxel"
        )
    if dtype.kind == "c":
        raise UnsupportedFormatError(f"{name}: complex-valued voxels; Iris reads real numbers")
    if dtype.kind in "iu" or (dtype.kind == "f" and dtype.itemsize in (4, 8)):
        return dtype  # type: ignore[no-any-return]
    raise UnsupportedFormatError(f"{name}: voxels of type {dtype.name} are not supported")


def _check_file_holds(path: Path, needed: int) -> None:
    actual = path.stat().st_size
    if actual < needed:
        raise CorruptFileError(
            f"{path.name}: the header describes {needed:,} bytes of image but the file holds "
            f"{actual:,}: it is truncated"
        )


def _read_exactly(
    stream: BinaryIO, needed: int, name: str, probe: int
) -> npt.NDArray[np.uint8]:
    """``needed`` bytes, read a chunk at a time. The first ``probe`` bytes are read before the
    whole buffer is reserved, so a compressed stream that ends early never reserves the size its
    header claims; past that, the buffer's pages fill only as data arrives."""
    head = bytearray()
    while len(head) < min(needed, probe):
        chunk = stream.read(min(_CHUNK, needed - len(head)))
        if not chunk:
            raise _truncated(name, needed, len(head))
        head += chunk
    buffer = np.empty(needed, dtype=np.uint8)
    buffer[: len(head)] = np.frombuffer(head, dtype=np.uint8)
    filled = len(head)
    del head
    view = memoryview(buffer)  # type: ignore[arg-type]
    while filled < needed:
        count = stream.readinto(view[filled : filled + _CHUNK])  # type: ignore[attr-defined]
        if not count:
            raise _truncated(name, needed, filled)
        filled += count
    return buffer


def _truncated(name: str, needed: int, present: int) -> CorruptFileError:
    return CorruptFileError(
        f"{name}: the header describes {needed:,} bytes of image but the file ends after "
        f"{present:,}: it is truncated"
    )


def _scaling(header: NiftiHeader, name: str) -> tuple[float, float]:
    try:
        slope, intercept = header.get_slope_inter()
    except Exception as e:  # nibabel's HeaderDataError for a valid slope with a NaN intercept
        raise CorruptFileError(
            f"{name}: the header's value scaling (scl_slope, scl_inter) is not a number"
        ) from e
    slope = 1.0 if slope is None or not np.isfinite(slope) or slope == 0 else float(slope)
    intercept = 0.0 if intercept is None or not np.isfinite(intercept) else float(intercept)
    return slope, intercept


def choose_affine(header: NiftiHeader, name: str) -> tuple[npt.NDArray[np.float64], list[str]]:
    """The sform, else the qform, else the voxel sizes alone, as NIfTI readers choose; a damaged
    sform falls back to a valid qform with a warning, and no usable geometry is refused."""
    sform_code, qform_code = int(header["sform_code"]), int(header["qform_code"])
    problems: list[str] = []
    candidates = [("sform", sform_code > 0, header.get_sform),
                  ("qform", qform_code > 0, header.get_qform),
                  ("voxel sizes", sform_code <= 0 and qform_code <= 0, header.get_base_affine)]
    for label, present, compute in candidates:
        if not present:
            continue
        try:
            affine = np.asarray(compute(), dtype=np.float64)
        except Exception:  # a quaternion out of range, for one
            problems.append(f"the {label} cannot be computed")
            continue
        problem = affine_problem(affine)
        if problem is None:
            warnings = [f"{p}; the {label} was used instead" for p in problems]
            return affine, warnings
        problems.append(f"the {label} is invalid: {problem}")
    raise InvalidGeometryError(f"{name}: the image geometry is invalid: {'; '.join(problems)}")
