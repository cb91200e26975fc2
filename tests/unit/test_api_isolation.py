"""Every endpoint that names a study, job, upload or file answers 404 to anyone but its owner,
exactly as for something that does not exist. A new route with a path parameter fails
``test_every_owned_route_is_covered`` until it is added here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.service import (
    COMPARABLE_FILES,
    api_client,
    create_job,
    finish_next_job,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.phantom import Phantom
from iris3d.store import dicom, pacs_sends


@dataclass
class World:
    client: TestClient
    owner: dict[str, str]
    other: dict[str, str]
    ids: dict[str, str]


# (method, route) -> keyword arguments for the request; {study} etc. are the owner's ids.
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/studies/{study_id}"): {},
    ("PATCH", "/api/studies/{study_id}"): {"json": {"name": "mine now"}},
    ("DELETE", "/api/studies/{study_id}"): {},
    ("GET", "/api/studies/{study_id}/thumbnail"): {},
    ("PUT", "/api/studies/{study_id}/segmentation"): {
        "files": [("file", ("seg.nii.gz", b"x" * 100, "application/octet-stream"))]
    },
    ("GET", "/api/uploads/{upload_id}"): {},
    ("PUT", "/api/uploads/{upload_id}"): {"params": {"offset": 0}, "content": b"abc"},
    ("POST", "/api/uploads/{upload_id}/complete"): {"json": {}},
    ("DELETE", "/api/uploads/{upload_id}"): {},
    ("GET", "/api/jobs/{job_id}"): {},
    ("POST", "/api/jobs/{job_id}/cancel"): {},
    ("POST", "/api/jobs/{job_id}/retry"): {},
    ("GET", "/api/jobs/{job_id}/events"): {},
    ("GET", "/api/jobs/{job_id}/artifacts/{name}"): {},
    ("POST", "/api/jobs/{job_id}/artifacts/{name}/link"): {},
    ("GET", "/api/files/{token}"): {},
    ("GET", "/api/comparisons/{comparison_id}"): {},
    ("DELETE", "/api/comparisons/{comparison_id}"): {},
    ("DELETE", "/api/auth/tokens/{token_id}"): {},
    ("DELETE", "/api/pacs/servers/{server_id}"): {},
    ("GET", "/api/pacs/servers/{server_id}/studies"): {},
    ("GET", "/api/pacs/servers/{server_id}/series"): {},
    ("POST", "/api/pacs/servers/{server_id}/pull"): {"json": {"series_uid": "1.2.3"}},
    ("POST", "/api/pacs/servers/{server_id}/send"): {"json": {"job_id": "{job_id}"}},
    ("DELETE", "/api/dicom/tokens/{token_id}"): {},
    ("POST", "/api/dicom/receipts/{receipt_id}/resend"): {},
    ("POST", "/dicom-web/studies/{study_uid}"): {},
    ("GET", "/api/pacs/sends/{job_id}"): {},
}
# Routes whose token is the permission, not a signed-in owner.
TOKEN_ROUTES = {("GET", "/api/files/{token}"), ("POST", "/dicom-web/studies/{study_uid}")}
# Routes for administrators only: anyone else gets 403 (the route's existence is public).
ADMIN_REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/admin/users/{user_id}"): {"json": {"disabled": True}},
}
# Routes without an id in the path that still reach someone's data through the body or query.
BODY_REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/jobs"): {"json": {"study_id": "{study_id}", "engine": "tissue"}},
    ("POST", "/api/comparisons"): {
        "json": {"base_study_id": "{study_id}", "follow_study_id": "{later_study_id}"}
    },
}



@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, small_phantom: Phantom) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("isolation")
    settings = service_settings(tmp / "data")
    with api_client(settings) as client:
        owner = sign_up(client, "owner@example.org")
        other = sign_up(client, "other@example.org")
        study = upload_study(client, owner, phantom_nifti(small_phantom, tmp))
        job = create_job(client, owner, study["id"])
        finish_next_job(settings, COMPARABLE_FILES)
        later = upload_study(client, owner, phantom_nifti(small_phantom, tmp))
        create_job(client, owner, later["id"])
        finish_next_job(settings, COMPARABLE_FILES)
        comparison = client.post(
            "/api/comparisons",
            headers=owner,
            json={"base_study_id": study["id"], "follow_study_id": later["id"]},
        )
        assert comparison.status_code == 201, comparison.text
        upload = client.post("/api/uploads", headers=owner, json={"size": 10}).json()
        link = client.post(f"/api/jobs/{job['id']}/artifacts/glb/link", headers=owner).json()
        tokens = client.get("/api/auth/tokens", headers=owner).json()["items"]
        me = client.get("/api/auth/me", headers=owner).json()
        # Nothing listens there: only ownership is tested, never the PACS.
        pacs = client.post("/api/pacs/servers", headers=owner,
                           json={"name": "PACS", "url": "http://127.0.0.1:9/dicom-web"}).json()
        db = open_db(settings)
        with db.session() as session:
            receipt = dicom.add_receipt(session, me["id"], instances=1, size=1,
                                        state=dicom.ReceiptState.FAILED)
        db.dispose()
        with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
            pacs_sends.add_send(session, job_id=job["id"], owner_id=me["id"],
                                server_id=pacs["id"])
        ids = {
            "study_id": study["id"],
            "later_study_id": later["id"],
            "comparison_id": comparison.json()["id"],
            "job_id": job["id"],
            "upload_id": upload["id"],
            "name": "glb",
            "token": link["url"].rsplit("/", 1)[-1],
            "token_id": tokens[0]["id"],
            "user_id": me["id"],
            "server_id": pacs["id"],
            "receipt_id": receipt.id,
            "study_uid": "1.2.3",
        }
        yield World(client, owner, other, ids)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(
    world: World, method: str, route: str, headers: dict[str, str] | None, kwargs: dict[str, Any]
) -> Any:
    return world.client.request(
        method, route.format(**world.ids), headers=headers, **_fill(kwargs, world.ids)
    )


def test_every_owned_route_is_covered(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if "{" in path
        for method in operations
    }
    assert routes == set(REQUESTS) | set(ADMIN_REQUESTS), "add the new route to REQUESTS"


# Every route but the signed-link download, whose token is the permission.
OWNED = sorted(set(REQUESTS) - TOKEN_ROUTES)


@pytest.mark.parametrize(("method", "route"), OWNED)
def test_another_user_gets_404(world: World, method: str, route: str) -> None:
    response = _call(world, method, route, world.other, REQUESTS[(method, route)])
    assert response.status_code == 404, response.text
    # ...and the same answer as for an id that does not exist.
    owned = ("study_id", "job_id", "upload_id", "comparison_id", "token_id", "receipt_id",
             "server_id")
    missing = {**world.ids, **{k: "0" * 32 for k in owned}}
    probe = world.client.request(
        method,
        route.format(**missing),
        headers=world.owner,
        **_fill(REQUESTS[(method, route)], missing),
    )
    assert probe.status_code == 404
    assert response.json()["detail"].split(" (")[0] == probe.json()["detail"].split(" (")[0]


@pytest.mark.parametrize(("method", "route"), sorted(BODY_REQUESTS))
def test_another_users_ids_in_a_body_get_404(world: World, method: str, route: str) -> None:
    response = _call(world, method, route, world.other, BODY_REQUESTS[(method, route)])
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "route"), sorted(REQUESTS))
def test_nobody_signed_in_gets_nothing(world: World, method: str, route: str) -> None:
    response = _call(world, method, route, None, REQUESTS[(method, route)])
    if route == "/api/files/{token}":
        assert response.status_code == 200  # the signed link itself is the permission
    else:
        assert response.status_code == 401


@pytest.mark.parametrize(("method", "route"), sorted(ADMIN_REQUESTS))
def test_only_administrators_reach_admin_routes(world: World, method: str, route: str) -> None:
    for headers, expected in ((world.other, 403), (world.owner, 403), (None, 401)):
        response = _call(world, method, route, headers, ADMIN_REQUESTS[(method, route)])
        assert response.status_code == expected, response.text


def test_lists_show_only_your_own(world: World) -> None:
    for path, count in (("/api/studies", 2), ("/api/jobs", 3), ("/api/comparisons", 1)):
        assert world.client.get(path, headers=world.other).json()["items"] == []
        assert len(world.client.get(path, headers=world.owner).json()["items"]) == count
    by_study = {"study_id": world.ids["study_id"]}
    mine = world.client.get("/api/comparisons", headers=world.owner, params=by_study).json()
    assert len(mine["items"]) == 1
    theirs = world.client.get("/api/comparisons", headers=world.other, params=by_study).json()
    assert theirs["items"] == []


def test_a_tampered_link_gets_404(world: World) -> None:
    token = world.ids["token"]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert world.client.get(f"/api/files/{forged}").status_code == 404


def test_the_owner_still_has_everything(world: World) -> None:
    # Run last in this module's order of definition: the other user's attempts changed nothing.
    study = world.client.get(f"/api/studies/{world.ids['study_id']}", headers=world.owner)
    assert study.status_code == 200 and study.json()["name"] != "mine now"
    job = world.client.get(f"/api/jobs/{world.ids['job_id']}", headers=world.owner).json()
    assert job["state"] == "done"
    glb = world.client.get(f"/api/jobs/{world.ids['job_id']}/artifacts/glb", headers=world.owner)
    assert glb.content == b"glTF" * 100
    assert world.client.get("/api/auth/me", headers=world.owner).json()["disabled"] is False
