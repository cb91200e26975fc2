"""Schemathesis over the OpenAPI schema against a real ``iris serve`` in production mode: generated
requests (valid and invalid) to every operation, signed in, must never get a 5xx or an answer
outside the schema. A few examples per operation keep it to about a minute."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from tests.support.live_server import LiveService
from tests.support.service import PASSWORD

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.failures import FailureGroup  # noqa: E402

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 5
# Ending the session under the fuzzer would turn the rest into 401s (still checked, but blind);
# the study list's event stream, rightly asked for, streams until the client leaves.
NOT_FUZZED = r"^/api/(auth/signout|auth/signout-everywhere|events)$"


@schemathesis.serializer("multipart/related", 'multipart/related; type="application/dicom"')
def _as_bytes(ctx: Any, value: Any) -> bytes:
    """STOW-RS bodies: whatever was generated, as bytes (the receiver must refuse it cleanly)."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    env = {
        "IRIS_ENV": "production",
        "IRIS_SECRET_KEY": "x7Qp2Lk9Jh5Gf3Ds8Wq4Rt7Yp2Lk9Jh5Gf3Ds8Wz",
        "IRIS_COOKIE_SECURE": "false",
        "IRIS_MAX_UPLOAD_BYTES": str(2**20),
        "IRIS_UPLOAD_CHUNK_BYTES": str(2**16),
    }
    live = LiveService(tmp_path_factory.mktemp("fuzz") / "data", workers=0, **env)
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def auth_headers(live: LiveService) -> dict[str, str]:
    with httpx.Client(base_url=live.url) as http:
        body = {"email": "fuzz@example.org", "password": PASSWORD}
        assert http.post("/api/auth/register", json=body).status_code == 201
        token = http.post("/api/auth/signin", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _fuzz(operation: Any, live: LiveService, headers: dict[str, str]) -> list[str]:
    """Each failure of ``operation`` under generated requests, as one line each."""
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        try:
            case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS, timeout=30)
        except (AssertionError, FailureGroup) as e:
            failures.append(f"{operation.label}: {' '.join(str(e).split())[:300]}")

    run()
    return failures


def test_no_operation_answers_a_server_error_or_leaves_its_schema(
    live: LiveService, auth_headers: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = [
        result.ok() for result in schema.exclude(path_regex=NOT_FUZZED).get_all_operations()
    ]
    assert len(operations) > 30, [o.label for o in operations]
    failures = [f for operation in operations for f in _fuzz(operation, live, auth_headers)]
    with live.explained():
        assert failures == [], "\n".join(sorted(set(failures)))
