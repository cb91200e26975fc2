"""Declared sizes are claims: a tiny file whose header promises gigabytes is refused for a few
MiB of memory, measured as the peak resident size of a child process that reads it."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from iris3d.imageio import LabelFileError, read_nifti_labels
from iris3d.ingest import load_study
from iris3d.ingest.errors import CorruptFileError, TooLargeError, UnsafeArchiveError
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series

LIMITS = ReadLimits.defaults()

# 1024 x 1024 x 256 float64: 2 GiB claimed, within the default IRIS_MAX_VOXELS.
SHAPE = (1024, 1024, 256)
MAX_EXTRA_MIB = 64

_MEASURE = """
import resource, sys
from pathlib import Path
from iris3d.contracts import Quality
from iris3d.errors import IrisError
from iris3d.ingest import ReadLimits, load_study
from iris3d.imageio import read_nifti_labels
from iris3d.segment.imported import ImportEngine
from iris3d.volume import CTVolume
import numpy as np
import SimpleITK, highdicom, pydicom  # imported before the baseline: their code is not the cost
path, kind = Path(sys.argv[1]), sys.argv[2]
limits = ReadLimits.defaults()
ct = CTVolume(np.zeros((8, 8, 8), np.int16), np.eye(4))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    if kind == "labels":
        read_nifti_labels(path, limits.max_voxels)
    elif kind == "import":
        ImportEngine(path, max_voxels=limits.max_voxels).segment(ct, Quality.FAST)
    else:
        load_study(path, limits=limits)
    print("loaded")
except IrisError as e:
    print("refused:", type(e).__name__, e)
print("extra_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def _lying_nifti(path: Path) -> Path:
    header = nib.Nifti1Header()
    header.set_data_shape(SHAPE)
    header.set_data_dtype(np.float64)
    header["vox_offset"] = 352
    body = header.binaryblock + b"\0" * 4 + b"\0" * 1000
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)
    return path


def _lying_itk(path: Path, encoding: str) -> Path:
    sizes = " ".join(map(str, SHAPE))
    if path.suffix == ".nrrd":
        head = (f"NRRD0004\ntype: double\ndimension: 3\nsizes: {sizes}\nencoding: {encoding}\n"
                "endian: little\n\n").encode()
        data = gzip.compress(b"\0" * 100_000) if encoding == "gzip" else b"\0" * 1000
    else:
        compressed = encoding == "gzip"
        head = (f"ObjectType = Image\nNDims = 3\nDimSize = {sizes}\nElementType = MET_DOUBLE\n"
                f"CompressedData = {compressed}\nElementDataFile = LOCAL\n").encode()
        data = zlib.compress(b"\0" * 100_000) if compressed else b"\0" * 1000
    path.write_bytes(head + data)
    return path


def _lying_dicom(folder: Path, phantom: Phantom) -> Path:
    """A real series whose headers then claim 4096 x 4096 images."""
    write_dicom_series(phantom.ct, folder)
    for file in folder.iterdir():
        ds = pydicom.dcmread(file)
        ds.Rows = ds.Columns = 4096
        ds.save_as(file)
    return folder


def _lying_seg(path: Path) -> Path:
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.Modality = "SEG"
    ds.Rows = ds.Columns = 4096
    ds.NumberOfFrames = 120
    ds.BitsAllocated = 8
    ds.PixelData = b"\0" * 1024
    ds.save_as(path, enforce_file_format=True)
    return path


def _peak_extra_mib(path: Path, kind: str = "study") -> tuple[str, float]:
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(path), kind],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    return lines[0], int(lines[-1].split()[1]) / 1024


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    "nii.gz", "nii", "nrrd-gzip", "nrrd-raw", "mha-zlib", "mha-raw", "labels", "dicom", "seg",
])
def test_a_lying_header_costs_little_memory(
    small_phantom: Phantom, tmp_path: Path, case: str
) -> None:
    kind = "study"
    if case in ("nii.gz", "nii"):
        path = _lying_nifti(tmp_path / f"bomb.{case}")
    elif case == "labels":
        path, kind = _lying_nifti(tmp_path / "labels.nii.gz"), "labels"
    elif case == "dicom":
        path = _lying_dicom(tmp_path / "series", small_phantom)
    elif case == "seg":
        path, kind = _lying_seg(tmp_path / "seg.dcm"), "import"
    else:
        fmt, encoding = case.split("-")
        path = _lying_itk(tmp_path / f"bomb.{fmt}", "gzip" if encoding != "raw" else "raw")
    outcome, extra = _peak_extra_mib(path, kind)
    print(f"{case}: {outcome[:90]} | peak +{extra:.1f} MiB")
    assert outcome.startswith("refused:"), outcome
    assert "Traceback" not in outcome
    assert extra < MAX_EXTRA_MIB, f"{case}: {extra:.0f} MiB over baseline"


def test_truncated_gzip_nifti_names_the_shortfall(tmp_path: Path) -> None:
    header = nib.Nifti1Header()
    header.set_data_shape((256, 256, 200))  # 25 MiB: below the size a bomb is judged at
    header.set_data_dtype(np.int16)
    header["vox_offset"] = 352
    path = tmp_path / "short.nii.gz"
    path.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4 + b"\0" * 1000))
    with pytest.raises(CorruptFileError, match="ends after 1,000: it is truncated"):
        load_study(path, limits=LIMITS)


def test_segmentation_upload_reader_is_capped(tmp_path: Path) -> None:
    image = nib.Nifti1Image(np.ones((20, 20, 20), np.uint8), np.eye(4))
    nib.save(image, tmp_path / "seg.nii.gz")
    with pytest.raises(LabelFileError, match="IRIS_MAX_VOXELS"):
        read_nifti_labels(tmp_path / "seg.nii.gz", max_voxels=1000)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd"])
def test_a_decompression_bomb_is_refused_before_it_expands(tmp_path: Path, suffix: str) -> None:
    """Real zeros, not a lie: 512 MiB of voxels in well under a megabyte."""
    shape, zeros = (512, 512, 1024), b"\0" * (512 * 512 * 1024 * 2)
    path = tmp_path / f"bomb{suffix}"
    if suffix == ".nrrd":
        head = (b"NRRD0004\ntype: short\ndimension: 3\nsizes: 512 512 1024\nencoding: gzip\n"
                b"endian: little\n\n")
        path.write_bytes(head + gzip.compress(zeros, compresslevel=1))
    else:
        header = nib.Nifti1Header()
        header.set_data_shape(shape)
        header.set_data_dtype(np.int16)
        header["vox_offset"] = 352
        path.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4 + zeros, compresslevel=1))
    assert path.stat().st_size < 4 * 2**20
    with pytest.raises(TooLargeError, match="decompression bomb"):
        load_study(path, limits=LIMITS)


@pytest.mark.slow
def test_a_zip_bomb_is_refused_while_it_unpacks(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("IM0001", b"\0" * (300 * 2**20))  # 300 MiB of zeros in about 300 KiB
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        load_study(path, limits=LIMITS)


@pytest.mark.parametrize("encoding", ["gzip", "bzip2"])
def test_compressed_nrrd_that_ends_early_is_counted_not_trusted(
    tmp_path: Path, encoding: str
) -> None:
    import bz2

    data = b"\0" * 100_000
    packed = gzip.compress(data) if encoding == "gzip" else bz2.compress(data)
    path = tmp_path / "short.nrrd"
    head = ("NRRD0004\ntype: short\ndimension: 3\nsizes: 256 256 200\n"
            f"encoding: {encoding}\nendian: little\n\n")
    path.write_bytes(head.encode() + packed)
    with pytest.raises(CorruptFileError, match="truncated"):
        load_study(path, limits=LIMITS)


@pytest.mark.slow
def test_a_compressed_dicom_series_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    """JPEG 2000 slices of pure air: 320 MiB of pixels in a few hundred KiB of files."""
    from pydicom.uid import JPEG2000Lossless

    from iris3d.volume import CTVolume

    air = CTVolume(np.full((1024, 1024, 1), -1024, np.int16), np.eye(4))
    first = write_dicom_series(air, tmp_path / "one", transfer_syntax=JPEG2000Lossless)[0]
    series = tmp_path / "series"
    series.mkdir()
    template = pydicom.dcmread(first)
    for k in range(160):
        template.SOPInstanceUID = generate_uid()
        template.InstanceNumber = k + 1
        template.ImagePositionPatient = [0.0, 0.0, float(k)]
        template.save_as(series / f"IM{k:04d}.dcm", enforce_file_format=True)
    assert sum(p.stat().st_size for p in series.iterdir()) < 3 * 2**20
    outcome, extra = _peak_extra_mib(series)
    assert outcome.startswith("refused: TooLargeError"), outcome
    assert "decompression bomb" in outcome
    assert extra < MAX_EXTRA_MIB
