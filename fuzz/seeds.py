"""Seed files for the fuzzers, made from Iris's own phantom (tiny, so each run is fast)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pydicom

from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_itk, write_nifti


def tiny_phantom() -> Phantom:
    return make_phantom(shape=(12, 10, 8), spacing=(8.0, 8.0, 8.0))


def make_seeds(target: str, folder: Path) -> list[bytes]:
    """A few valid inputs for ``target``, as the bytes the harness is given."""
    phantom = tiny_phantom()
    work = folder / f"seed-{target}"
    work.mkdir(parents=True, exist_ok=True)
    if target in ("nifti", "labelmap", "maskfolder"):
        image = phantom.ct if target == "nifti" else phantom.labels
        return [write_nifti(image, work / f"s{o}.nii{z}", o).read_bytes()
                for o, z in (("RAS", ".gz"), ("LPS", ""))]
    if target in ("nrrd", "mha"):
        return [write_itk(phantom.ct, work / f"s.{target}").read_bytes()]
    if target == "mhd":
        write_itk(phantom.ct, work / "s.mhd")
        return [_pack({"s.mhd": (work / "s.mhd").read_bytes(), "s.raw": _data_of(work)})]
    files = write_dicom_series(phantom.ct, work / "dicom")
    if target == "dicomfile":
        return [files[0].read_bytes()]
    if target == "dicomfolder":
        return [_pack({f.name: f.read_bytes() for f in files[:4]})]
    if target == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, f"series/{f.name}")
        return [buffer.getvalue()]
    if target == "dicomseg":
        return [_dicom_seg(phantom, files).read_bytes()]
    raise SystemExit(f"unknown target {target}")


def _data_of(work: Path) -> bytes:
    data = [p for p in work.iterdir() if p.suffix in (".raw", ".zraw")]
    return data[0].read_bytes()


def _pack(files: dict[str, bytes]) -> bytes:
    """Several files in one fuzz input: the harness splits them again (see ``unpack``)."""
    out = bytearray()
    for name, content in files.items():
        encoded = name.encode()
        out += len(encoded).to_bytes(1, "little") + encoded
        out += len(content).to_bytes(4, "little") + content
    return bytes(out)


def unpack(data: bytes, limit: int = 16) -> dict[str, bytes]:
    """The inverse of ``_pack``, tolerant of anything the fuzzer makes of it."""
    files: dict[str, bytes] = {}
    at = 0
    while at < len(data) and len(files) < limit:
        size = data[at]
        name = data[at + 1 : at + 1 + size].decode("latin-1")
        at += 1 + size
        length = int.from_bytes(data[at : at + 4], "little")
        at += 4
        safe = "".join(c for c in name if c.isalnum() or c in "._-")[:40].lstrip(".")
        safe = safe or f"f{len(files)}"
        files[safe] = data[at : at + length]
        at += length
    return files


def _dicom_seg(phantom: Phantom, files: list[Path]) -> Path:
    import highdicom as hd

    datasets = [pydicom.dcmread(f) for f in files]
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    frames = np.zeros((len(datasets), datasets[0].Rows, datasets[0].Columns), np.uint8)
    frames[:, 3:7, 3:8] = 1
    category = hd.sr.CodedConcept("123037004", "SCT", "Anatomical Structure")
    kind = hd.sr.CodedConcept("91723000", "SCT", "Anatomical structure")
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label="liver", segmented_property_category=category,
        segmented_property_type=kind, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = hd.seg.Segmentation(
        source_images=datasets, pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description], series_instance_uid=hd.UID(), series_number=9,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Iris fuzz",
        manufacturer_model_name="phantom", software_versions="1", device_serial_number="1",
    )
    path = files[0].parent.parent / "seg.dcm"
    seg.save_as(path)
    return path
