"""A header never makes Iris read a file the user did not give: NRRD ``data file`` and MetaImage
``ElementDataFile`` (a path, a LIST or a pattern) are checked before any reader opens anything."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from iris3d.ingest import Detached, load_study
from iris3d.ingest.errors import IngestError, UnsafeReferenceError
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.files import write_itk

LIMITS = ReadLimits.defaults()

SECRET = (b"IRIS_SECRET_KEY=do-not-read-me\n" * 70)[:2048]  # as many bytes as 8x8x16 int16


def _detached(folder: Path, suffix: str, data_file: str) -> Path:
    """A header of an 8x8x16 int16 image whose voxels are in ``data_file``."""
    image = sitk.GetImageFromArray(np.zeros((16, 8, 8), np.int16))
    header = folder / f"study{suffix}"
    sitk.WriteImage(image, str(header))
    text = header.read_text()
    key = "ElementDataFile = " if suffix == ".mhd" else "data file: "
    lines = [line for line in text.splitlines() if not line.startswith(key)]
    header.write_text("\n".join([*lines, key + data_file]) + "\n")
    return header


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "server"
    outside.mkdir()
    path = outside / "secret.env"
    path.write_bytes(SECRET)
    return path


@pytest.mark.parametrize("suffix", [".mhd", ".nhdr"])
@pytest.mark.parametrize("reference", ["absolute", "climbing", "list", "pattern"])
def test_a_header_cannot_read_a_file_outside_the_upload(
    tmp_path: Path, secret: Path, suffix: str, reference: str
) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    target = {
        "absolute": str(secret),
        "climbing": "../server/secret.env",
        "list": "LIST\n" + str(secret),
        "pattern": str(secret.parent / "secret%d.env") + " 1 1 1",
    }[reference]
    header = _detached(folder, suffix, target)
    for policy in (Detached.REFUSE, Detached.SAME_FOLDER):
        with pytest.raises(UnsafeReferenceError) as caught:
            load_study(header, detached=policy, limits=LIMITS)
        assert "secret" not in str(caught.value) or policy is Detached.SAME_FOLDER
        assert str(tmp_path) not in str(caught.value)


@pytest.mark.parametrize("suffix", [".mhd", ".nhdr"])
def test_the_service_answer_is_the_same_whether_the_file_exists(
    tmp_path: Path, secret: Path, suffix: str
) -> None:
    answers = []
    for target in (str(secret), str(secret.with_name("missing.env"))):
        folder = tmp_path / f"upload-{len(answers)}"
        folder.mkdir()
        with pytest.raises(IngestError) as caught:
            load_study(_detached(folder, suffix, target), limits=LIMITS)
        answers.append((type(caught.value), str(caught.value)))
    assert answers[0] == answers[1]


def test_an_attached_nrrd_naming_a_data_file_is_refused(tmp_path: Path, secret: Path) -> None:
    path = tmp_path / "study.nrrd"
    path.write_bytes(
        b"NRRD0004\ntype: short\ndimension: 3\nsizes: 8 8 16\nencoding: raw\nendian: little\n"
        b"data file: " + str(secret).encode() + b"\n\n" + b"\0" * 2048
    )
    with pytest.raises(UnsafeReferenceError):
        load_study(path, limits=LIMITS)


def test_mha_naming_another_file_is_refused(tmp_path: Path, secret: Path) -> None:
    path = tmp_path / "study.mha"
    path.write_text(
        "ObjectType = Image\nNDims = 3\nDimSize = 8 8 16\nElementType = MET_SHORT\n"
        f"ElementDataFile = {secret}\n"
    )
    with pytest.raises(UnsafeReferenceError):
        load_study(path, limits=LIMITS)


@pytest.mark.parametrize("suffix", [".mhd", ".nhdr"])
def test_a_data_file_beside_its_header_loads_where_allowed(
    small_phantom: Phantom, tmp_path: Path, suffix: str
) -> None:
    header = write_itk(small_phantom.ct, tmp_path / f"ct{suffix}")
    with pytest.raises(UnsafeReferenceError):
        load_study(header, limits=LIMITS)  # the default (the service's): one file only
    volume = load_study(header, detached=Detached.SAME_FOLDER, limits=LIMITS)
    np.testing.assert_array_equal(volume.array, small_phantom.ct.array)


def test_a_symlinked_data_file_is_refused(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "data.raw").symlink_to(secret)
    header = _detached(tmp_path, ".mhd", "data.raw")
    with pytest.raises(UnsafeReferenceError, match="symbolic link"):
        load_study(header, detached=Detached.SAME_FOLDER, limits=LIMITS)


def test_anywhere_must_be_asked_for(tmp_path: Path, secret: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    header = _detached(folder, ".mhd", "../server/secret.env")
    volume = load_study(header, detached=Detached.ANYWHERE,
                        limits=LIMITS)  # the CLI's explicit flag
    assert volume.shape == (8, 8, 16)


@pytest.mark.parametrize("suffix", [".mhd", ".nhdr"])
def test_a_zip_holding_header_and_data_loads(
    small_phantom: Phantom, tmp_path: Path, suffix: str
) -> None:
    made = tmp_path / "made"
    made.mkdir()
    write_itk(small_phantom.ct, made / f"ct{suffix}")
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for member in made.iterdir():
            zf.write(member, f"scan/{member.name}")
    volume = load_study(archive, limits=LIMITS)
    np.testing.assert_array_equal(volume.array, small_phantom.ct.array)


def test_a_zipped_header_cannot_climb_out_of_the_zip(tmp_path: Path, secret: Path) -> None:
    made = tmp_path / "made"
    made.mkdir()
    header = _detached(made, ".mhd", "../../server/secret.env")
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(header, "study.mhd")
    with pytest.raises(UnsafeReferenceError):
        load_study(archive, limits=LIMITS)
