"""Fixtures shared by every test: small phantoms, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from iris3d.phantom import Phantom, make_phantom

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "totalseg_example"


@pytest.fixture(scope="session")
def small_phantom() -> Phantom:
    """48x40x24 voxels of 8 mm: every structure is there, and it builds in well under a second."""
    return make_phantom(shape=(48, 40, 24), spacing=(8.0, 8.0, 8.0))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real CT samples beside the repository; tests using them skip where they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real CT samples not present at {SHARED_DATA}")
    return SHARED_DATA
