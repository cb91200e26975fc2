"""Downloads: whole files, byte ranges, ETags, and short-lived signed links."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.support.service import (
    api_client,
    create_job,
    finish_next_job,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.api.downloads import parse_range
from iris3d.api.security import BadLinkError, LinkKeys, key_id, sign_link, verify_link
from iris3d.phantom import Phantom

CONTENT = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture(scope="module")
def done(
    tmp_path_factory: pytest.TempPathFactory, small_phantom: Phantom
) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    tmp = tmp_path_factory.mktemp("downloads")
    settings = service_settings(tmp / "data", signed_url_ttl_s=60)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp))
        job = create_job(client, headers, study["id"])
        finish_next_job(settings, {"glb": CONTENT, "thumbnail": b"\x89PNG-thumb"})
        yield client, headers, f"/api/jobs/{job['id']}/artifacts"


def test_whole_file_with_etag_and_conditional_get(
    done: tuple[TestClient, dict[str, str], str],
) -> None:
    client, headers, base = done
    response = client.get(f"{base}/glb", headers=headers)
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(CONTENT))
    assert 'filename="glb.bin"' in response.headers["content-disposition"]
    etag = response.headers["etag"]
    again = client.get(f"{base}/glb", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    changed = client.get(f"{base}/glb", headers={**headers, "If-None-Match": '"other"'})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_byte_ranges(
    done: tuple[TestClient, dict[str, str], str], header: str, start: int, end: int
) -> None:
    client, headers, base = done
    response = client.get(f"{base}/glb", headers={**headers, "Range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(CONTENT)}"


def test_unsatisfiable_and_stale_ranges(done: tuple[TestClient, dict[str, str], str]) -> None:
    client, headers, base = done
    outside = client.get(f"{base}/glb", headers={**headers, "Range": "bytes=20000-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(CONTENT)}"
    stale = client.get(
        f"{base}/glb", headers={**headers, "Range": "bytes=0-9", "If-Range": '"an-old-version"'}
    )
    assert stale.status_code == 200 and stale.content == CONTENT
    etag = client.get(f"{base}/glb", headers=headers).headers["etag"]
    fresh = client.get(f"{base}/glb", headers={**headers, "Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.content == CONTENT[:10]


def test_unknown_artifacts_are_404(done: tuple[TestClient, dict[str, str], str]) -> None:
    client, headers, base = done
    for name in ("nope", "..%2F..%2Firis.db", "glb.bin"):
        assert client.get(f"{base}/{name}", headers=headers).status_code == 404


def test_job_lists_its_artifacts_and_study_its_thumbnail(
    done: tuple[TestClient, dict[str, str], str],
) -> None:
    client, headers, base = done
    job = client.get(base.removesuffix("/artifacts"), headers=headers).json()
    assert {a["name"]: a["size"] for a in job["artifacts"]} == {"glb": 10240, "thumbnail": 10}
    assert all(a["url"].startswith(base) for a in job["artifacts"])
    study = client.get(f"/api/studies/{job['study_id']}", headers=headers).json()
    thumb = client.get(study["thumbnail_url"], headers=headers)
    assert thumb.content == b"\x89PNG-thumb"
    assert thumb.headers["content-disposition"].startswith("inline")


def test_a_signed_link_works_without_signing_in(
    done: tuple[TestClient, dict[str, str], str],
) -> None:
    client, headers, base = done
    link = client.post(f"{base}/glb/link", headers=headers).json()
    assert link["url"].startswith("/api/files/")
    anonymous = client.get(link["url"])
    assert anonymous.status_code == 200 and anonymous.content == CONTENT
    ranged = client.get(link["url"], headers={"Range": "bytes=5-9"})
    assert ranged.status_code == 206 and ranged.content == CONTENT[5:10]


def test_links_expire_and_cannot_be_altered() -> None:
    one, two = LinkKeys("secret-one"), LinkKeys("secret-two")
    token, _ = sign_link(one, "job", "glb", ttl_s=60)
    assert verify_link(one, token).artifact == "glb"
    with pytest.raises(BadLinkError):
        verify_link(two, token)
    kid, payload, signature = token.split(".")
    other, _ = sign_link(one, "job", "thumbnail", ttl_s=60)
    with pytest.raises(BadLinkError):
        verify_link(one, f"{kid}.{other.split('.')[1]}.{signature}")
    with pytest.raises(BadLinkError):  # the key id is signed too
        verify_link(one, f"{key_id('secret-two')}.{payload}.{signature}")
    expired, _ = sign_link(one, "job", "glb", ttl_s=-1)
    with pytest.raises(BadLinkError):
        verify_link(one, expired)
    with pytest.raises(BadLinkError):  # the format before key ids
        verify_link(one, f"{payload}.{signature}")


def test_a_rotated_key_signs_no_more_but_its_links_live_out_the_grace_period() -> None:
    old = LinkKeys("secret-old")
    token, _ = sign_link(old, "job", "glb", ttl_s=60)
    rotated = LinkKeys("secret-new", previous="secret-old", previous_until=time.time() + 60)
    assert verify_link(rotated, token).job_id == "job"
    assert sign_link(rotated, "job", "glb", 60)[0].split(".")[0] == key_id("secret-new")
    after_grace = LinkKeys("secret-new", previous="secret-old", previous_until=time.time() - 1)
    with pytest.raises(BadLinkError):
        verify_link(after_grace, token)
    with pytest.raises(BadLinkError):
        verify_link(LinkKeys("secret-new"), token)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("bytes=0-0", (0, 0)),
        ("bytes=5-2", False),
        ("bytes=-0", False),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=100-", False),
    ],
)
def test_parse_range(header: str, expected: object) -> None:
    assert parse_range(header, 100) == expected
