"""The study files Iris reads, by name ending (lower case)."""

from __future__ import annotations

NIFTI_SUFFIXES = (".nii.gz", ".nii")
ITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")
VOLUME_SUFFIXES = (*NIFTI_SUFFIXES, *ITK_SUFFIXES)

UPLOAD_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha", ".zip", ".dcm")
"""What the service takes as one uploaded file. Headers with a detached data file (``.nhdr``,
``.mhd``) come inside a zip with their data, never alone."""

DETACHED_HEADER_SUFFIXES = (".nhdr", ".mhd")
"""Headers whose voxels live in another file: the web app's picker says to zip them with it."""


def upload_suffix(filename: str) -> str:
    """The upload suffix ``filename`` ends with, or "" when the service does not take it."""
    name = filename.lower()
    return next((s for s in UPLOAD_SUFFIXES if name.endswith(s)), "")


def strip_suffix(filename: str, suffixes: tuple[str, ...]) -> str:
    """``filename`` without the first of ``suffixes`` it ends with, in any case (``liver.nii.gz``
    -> ``liver``); unchanged when it ends with none."""
    name = filename.lower()
    return next((filename[: -len(s)] for s in suffixes if name.endswith(s)), filename)
