"""A hostile user against a real ``iris serve`` in production mode (uvicorn on 127.0.0.1, every
client on its own loopback address 127.0.0.x so that per-client limits can be seen).

Each test is one attack from the security review (docs/security.md), and each must be refused.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.live_server import LiveService, iris_command
from tests.support.service import PASSWORD
from tests.support.waiting import wait_for

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti

pytestmark = pytest.mark.slow

SECRET = "k3Jq9vX2pL8rT5wZ1mN4bC7dF0gH6jS3aQ9eR2tY5uI8oP1"
METRICS_TOKEN = "m" * 8 + "Zq4Rt7Yp2Lk9Jh5Gf3Ds8Wx1Cv6Bn0Mz"
PRODUCTION = {
    "IRIS_ENV": "production",
    "IRIS_SECRET_KEY": SECRET,
    "IRIS_COOKIE_SECURE": "false",  # plain http on loopback
    "IRIS_METRICS_TOKEN": METRICS_TOKEN,
    # An old setting that once made the first registrant of this address an administrator.
    "IRIS_ADMIN_EMAILS": '["boss@example.org"]',
    # uvicorn's own proxy handling, wide open: it must not let a client choose its address.
    "FORWARDED_ALLOW_IPS": "*",
    "IRIS_SIGNIN_ATTEMPTS": "3",
    "IRIS_SIGNIN_CLIENT_ATTEMPTS": "6",
    "IRIS_SIGNUP_PER_CLIENT": "5",
    "IRIS_EVENT_STREAMS_PER_USER": "2",
    "IRIS_QUOTA_QUEUED_JOBS": "2",
    "IRIS_QUOTA_OPEN_UPLOADS": "4",
    "IRIS_QUOTA_UPLOAD_BYTES": str(8 * 2**30),
    "IRIS_QUOTA_STORED_BYTES": str(9 * 2**30),
}
_next_address = iter(range(2, 250))


def client_from(service: LiveService, address: str | None = None) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (a fresh 127.0.0.x by default)."""
    address = address or f"127.0.0.{next(_next_address)}"
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=service.url, transport=transport, timeout=60)


def account(http: httpx.Client, email: str) -> str:
    body = {"email": email, "password": PASSWORD}
    assert http.post("/api/auth/register", json=body).status_code == 201
    response = http.post("/api/auth/signin", json=body)
    assert response.status_code == 200, response.text
    http.cookies.clear()
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("security") / "data", workers=0, **PRODUCTION)
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The same, behind a reverse proxy on 127.0.0.1 that IRIS_TRUSTED_PROXIES names."""
    env = {**PRODUCTION, "IRIS_TRUSTED_PROXIES": '["127.0.0.1"]'}
    live = LiveService(tmp_path_factory.mktemp("proxied") / "data", workers=0, **env)
    live.start()
    yield live
    live.stop()


def test_signing_up_never_makes_an_admin_only_the_server_command_does(
    service: LiveService,
) -> None:
    with client_from(service) as http, service.explained():
        token = account(http, "boss@example.org")
        me = http.get("/api/auth/me", headers=bearer(token)).json()
        assert me["is_admin"] is False
        assert http.get("/api/admin/users", headers=bearer(token)).status_code == 403
        made = subprocess.run(
            iris_command("db", "make-admin", "boss@example.org"),
            env=service.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        assert http.get("/api/admin/users", headers=bearer(token)).status_code == 200


def test_a_guesser_is_slowed_but_the_owner_still_signs_in(service: LiveService) -> None:
    with client_from(service) as owner, client_from(service) as guesser, service.explained():
        account(owner, "owner@example.org")
        wrong = {"email": "owner@example.org", "password": "not the password"}
        codes = []
        for n in range(8):  # each try claims to come from another address: ignored
            spoof = {"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"}
            codes.append(guesser.post("/api/auth/signin", json=wrong, headers=spoof).status_code)
        assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}, codes
        right = {"email": "owner@example.org", "password": PASSWORD}
        assert guesser.post("/api/auth/signin", json=right).status_code == 429
        assert owner.post("/api/auth/signin", json=right).status_code == 200


def test_a_guesser_trying_many_accounts_is_stopped_per_client(service: LiveService) -> None:
    with client_from(service) as guesser, service.explained():
        codes = [
            guesser.post(
                "/api/auth/signin", json={"email": f"u{n}@example.org", "password": "guess1234"}
            ).status_code
            for n in range(8)
        ]
        assert codes == [401] * 6 + [429] * 2, codes


def test_trusted_proxies_forwarded_address_is_believed_and_only_theirs(
    behind_proxy: LiveService,
) -> None:
    with (
        client_from(behind_proxy, "127.0.0.1") as proxy,
        client_from(behind_proxy) as direct,
        behind_proxy.explained(),
    ):
        account(proxy, "carol@example.org")
        wrong = {"email": "carol@example.org", "password": "not the password"}
        attacker = {"X-Forwarded-For": "203.0.113.7"}
        codes = [
            proxy.post("/api/auth/signin", json=wrong, headers=attacker).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        right = {"email": "carol@example.org", "password": PASSWORD}
        # The owner, through the same proxy from another address, is not locked out.
        owner = {"X-Forwarded-For": "203.0.113.8"}
        assert proxy.post("/api/auth/signin", json=right, headers=owner).status_code == 200
        # A client's own X-Forwarded-For on the left is never the one believed.
        forged = {"X-Forwarded-For": "203.0.113.8, 203.0.113.7"}
        assert proxy.post("/api/auth/signin", json=right, headers=forged).status_code == 429
        # Straight to the server (not through the proxy), the header is the client's word.
        codes = [
            direct.post("/api/auth/signin", json=wrong, headers=owner).status_code for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        assert proxy.post("/api/auth/signin", json=right, headers=owner).status_code == 200


def test_a_sign_up_flood_is_refused(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        codes = [
            http.post(
                "/api/auth/register",
                json={"email": f"flood{n}@example.org", "password": PASSWORD},
            ).status_code
            for n in range(40)
        ]
        assert codes[:5] == [201] * 5 and set(codes[5:]) == {429}, codes


def test_uploads_and_jobs_stop_at_the_quotas(service: LiveService, tmp_path: Path) -> None:
    with client_from(service) as http, service.explained():
        http.headers.update(bearer(account(http, "hoarder@example.org")))
        announce = {"filename": "big.nii.gz", "size": 2**31 - 1}
        answers = [http.post("/api/uploads", json=announce) for _ in range(60)]
        codes = [a.status_code for a in answers]
        assert codes[:4] == [201] * 4 and set(codes[4:]) == {403}, codes
        refused = http.post("/api/uploads", json={"filename": "big.nii.gz", "size": 10})
        assert "unfinished uploads" in refused.json()["detail"]
        phantom = make_phantom(shape=(24, 20, 16), spacing=(8.0, 8.0, 8.0))
        study_file = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
        for accepted in answers[:4]:  # cancelled uploads give their room back
            assert http.delete(f"/api/uploads/{accepted.json()['id']}").status_code == 204
        files = [("files", ("ct.nii.gz", study_file.read_bytes(), "application/gzip"))]
        study = http.post("/api/studies", files=files)
        assert study.status_code == 201, study.text
        body = {"study_id": study.json()["id"], "quality": "fast", "engine": "tissue"}
        jobs = [http.post("/api/jobs", json=body) for _ in range(5)]
        assert [j.status_code for j in jobs] == [201, 201, 403, 403, 403]
        assert "queued or running jobs" in jobs[-1].json()["detail"]
        quotas = {q["name"]: q for q in http.get("/api/auth/quotas").json()["items"]}
        assert quotas["queued_jobs"] == {"name": "queued_jobs", "limit": 2, "used": 2}


def test_every_answer_carries_the_security_headers(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        for path in ("/", "/studies/abc", "/api/auth/me", "/openapi.json", "/healthz"):
            headers = http.get(path).headers
            csp = headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp, path
            assert "unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", ""), path
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert "strict-transport-security" not in headers  # plain http
        assert http.get("/api/auth/me").headers["cache-control"] == "no-store"
        assert "server" not in http.get("/healthz").headers


def test_docs_metrics_and_health_reveal_nothing(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        for docs in ("/docs", "/redoc"):  # no Swagger UI from a CDN (the web app's page, or 404)
            assert "cdn.jsdelivr" not in http.get(docs).text
        assert http.get("/metrics").status_code == 404
        wrong = bearer("m" * 40)
        assert http.get("/metrics", headers=wrong).status_code == 404
        metrics = http.get("/metrics", headers=bearer(METRICS_TOKEN))
        assert metrics.status_code == 200 and "iris_jobs" in metrics.text
        assert http.get("/readyz").json() == {
            "ready": True,
            "checks": {"database": "ok", "storage": "ok"},
        }
        assert http.get("/healthz").json() == {"status": "ok"}


def test_hsts_only_over_tls_as_the_trusted_proxy_says(behind_proxy: LiveService) -> None:
    with (
        client_from(behind_proxy, "127.0.0.1") as proxy,
        client_from(behind_proxy) as direct,
    ):
        tls = {"X-Forwarded-Proto": "https"}
        assert "max-age" in proxy.get("/healthz", headers=tls).headers["strict-transport-security"]
        assert "strict-transport-security" not in direct.get("/healthz", headers=tls).headers


def _events(http: httpx.Client, token: str, lines: list[str], done: threading.Event) -> None:
    try:
        with http.stream("GET", "/api/events", headers=bearer(token), timeout=30) as response:
            lines.append(f"status {response.status_code}")
            for line in response.iter_lines():
                lines.append(line)
    except httpx.HTTPError as e:
        lines.append(f"error {type(e).__name__}")
    finally:
        done.set()


def test_event_streams_end_with_their_session_and_are_capped(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        token = account(http, "streamer@example.org")
        lines: list[str] = []
        ended = threading.Event()
        threading.Thread(target=_events, args=(http, token, lines, ended), daemon=True).start()
        wait_for(lambda: "event: ready" in lines, what="the stream's ready event", timeout=10)
        with client_from(service) as second:
            more = [_open_stream(second, token) for _ in range(2)]
            assert more[0] == 200 and more[1] == 429, more
        assert http.post("/api/auth/signout", headers=bearer(token)).status_code == 204
        assert ended.wait(10), "the stream went on after sign-out"


def test_closed_streams_give_their_slot_back(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        token = account(http, "tabs@example.org")

        def opens() -> bool:
            with http.stream("GET", "/api/events", headers=bearer(token)) as response:
                return response.status_code == 200

        for _ in range(5):  # more than the cap, one after the other
            # The server notices the last one left at its next look.
            wait_for(opens, what="a stream slot given back", timeout=10, interval=0.1)


def _open_stream(http: httpx.Client, token: str) -> int:
    """Opens a stream and leaves it open (the client keeps the connection) ; its status."""
    request = http.build_request("GET", "/api/events", headers=bearer(token))
    response = http.send(request, stream=True)
    return response.status_code


def test_a_disabled_account_is_shut_out_at_once(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        victim_token = account(http, "mallory@example.org")
        admin_token = account(http, "admin2@example.org")
        subprocess.run(
            iris_command("db", "make-admin", "admin2@example.org"),
            env=service.env,
            capture_output=True,
            timeout=60,
            check=True,
        )
        users = http.get("/api/admin/users", headers=bearer(admin_token)).json()["items"]
        victim = next(u for u in users if u["email"] == "mallory@example.org")
        changed = http.patch(
            f"/api/admin/users/{victim['id']}",
            json={"disabled": True},
            headers=bearer(admin_token),
        )
        assert changed.status_code == 200 and changed.json()["disabled"] is True
        assert http.get("/api/auth/me", headers=bearer(victim_token)).status_code == 401
        body = {"email": "mallory@example.org", "password": PASSWORD}
        assert http.post("/api/auth/signin", json=body).status_code == 401


def test_a_password_change_ends_every_other_session(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        first = account(http, "pat@example.org")
        body = {"email": "pat@example.org", "password": PASSWORD}
        second = http.post("/api/auth/signin", json=body).json()["access_token"]
        http.cookies.clear()
        change = {"current_password": PASSWORD, "new_password": "a much better passphrase"}
        wrong = {**change, "current_password": "not it at all"}
        assert http.post("/api/auth/password", json=wrong, headers=bearer(first)).status_code == 403
        assert (
            http.post("/api/auth/password", json=change, headers=bearer(first)).status_code == 204
        )
        assert http.get("/api/auth/me", headers=bearer(second)).status_code == 401
        assert http.get("/api/auth/me", headers=bearer(first)).status_code == 200
        assert http.post("/api/auth/signin", json=body).status_code == 401


def test_download_links_name_their_key_and_cannot_be_forged(service: LiveService) -> None:
    with client_from(service) as http, service.explained():
        forged = "AAAAAAAA.eyJ4IjoxfQ.c2lnbmF0dXJl"
        assert http.get(f"/api/files/{forged}").status_code == 404
        assert http.get("/api/files/not-a-token").status_code == 404
