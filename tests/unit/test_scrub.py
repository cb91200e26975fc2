"""The one message scrubber, against hostile text: paths, names, control characters, length."""

from __future__ import annotations

from pathlib import Path

import pytest

from iris3d.scrub import HIDDEN, MESSAGE_LIMIT, scrub


def test_a_plain_message_is_left_alone() -> None:
    message = "ct.nii.gz: expected a 3D image, got 2D (HU −1024..3071, 0.8 mm/voxel)"
    assert scrub(message) == message


def test_paths_under_the_given_folders_become_relative(tmp_path: Path) -> None:
    work = tmp_path / "job-1"
    message = f"{work}/upload/series 2/IM0001: the pixel data could not be read"
    expected = "upload/series 2/IM0001: the pixel data could not be read"
    assert scrub(message, folders=[work]) == expected


def test_a_folder_reached_through_a_link_is_removed_too(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    assert scrub(f"{real}/a/b.nii is broken", folders=[link]) == "a/b.nii is broken"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("cannot open /srv/iris/data/studies/ab12/source/Doe_John.dcm", "cannot open Doe_John.dcm"),
        ("'/tmp/x/y.nii' (errno 2)", "'y.nii' (errno 2)"),
        ("read /var/lib/iris/a.mha, then /home/u/b.mha", "read a.mha, then b.mha"),
    ],
)
def test_other_absolute_paths_keep_only_their_last_part(message: str, expected: str) -> None:
    assert scrub(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "see s3://bucket/studies/ab/source for details",
        "https://iris.example.org/api/jobs/1 answered 503",
        "a 2D/3D mix",
        "upload/series/IM1 is not DICOM",
        "spacing 0.5 mm / 1.0 mm",
        "the folder /data is full",
    ],
)
def test_urls_ratios_and_relative_paths_are_not_paths_to_cut(message: str) -> None:
    assert scrub(message) == message


def test_paths_can_be_kept_for_the_users_own_terminal() -> None:
    message = "/home/ann/scans/ct.nii.gz:\x1b[31m not a volume"
    assert scrub(message, keep_paths=True) == "/home/ann/scans/ct.nii.gz: not a volume"


def test_named_strings_are_hidden_whatever_their_case() -> None:
    message = "DOE^JOHN.dcm: /tmp/up/Doe^John.dcm has no pixel data (doe^john)"
    assert scrub(message, hide=["Doe^John", "", "  "]) == (
        f"{HIDDEN}.dcm: {HIDDEN}.dcm has no pixel data ({HIDDEN})"
    )


def test_hidden_strings_are_literal_not_patterns() -> None:
    assert scrub("a.b axb", hide=["a.b"]) == f"{HIDDEN} axb"


def test_control_characters_and_terminal_escapes_are_removed() -> None:
    hostile = (
        "bad\x1b[31m red\x1b[0m\x00 file\x07\r\nFAKE LOG LINE\tand\u202etxt.exe\u200b "
        "\x1b]0;title\x07!"
    )
    assert scrub(hostile) == "bad red file FAKE LOG LINE andtxt.exe !"


def test_whitespace_is_folded_to_one_line() -> None:
    assert scrub("  first\n\n  second\x0b\x0cthird  ") == "first second third"


def test_long_text_is_cut_with_an_ellipsis() -> None:
    cut = scrub("x" * 50_000)
    assert len(cut) == MESSAGE_LIMIT and cut.endswith("…")
    assert scrub("word " * 10, limit=12) == "word word w…"
    assert scrub("short", limit=5) == "short"


def test_anything_is_turned_into_text() -> None:
    assert scrub(ValueError("/tmp/a/secret.nii: bad")) == "secret.nii: bad"
    assert scrub(None) == "None"
