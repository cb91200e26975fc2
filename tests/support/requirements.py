"""Tests that need something outside Python (a server, a Node tool) skip on a laptop without it,
and fail in CI, where its absence means the set-up is broken."""

from __future__ import annotations

import os

import pytest


def require(available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: required here)")
    pytest.skip(reason)
