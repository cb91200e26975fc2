"""The deployment files name only what exists: every command an image runs is a real ``iris``
command, and every ``IRIS_*`` variable is a setting (Docker cannot run here to try them)."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from iris3d.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}")
OPERATOR_ENV = {  # what an operator's .env holds: real random secrets
    "IRIS_SECRET_KEY": secrets.token_urlsafe(48),
    "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
    "IRIS_S3_ACCESS_KEY_ID": secrets.token_hex(10),
    "IRIS_S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(40),
}


class MissingVariableError(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Docker Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` (refusal)."""

    def value(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise MissingVariableError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return _VARIABLE.sub(value, text)


def _compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    text = interpolate((ROOT / "docker-compose.yml").read_text(), env or OPERATOR_ENV)
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def _iris_commands() -> list[list[str]]:
    commands = [s["command"] for s in _compose()["services"].values() if "build" in s]
    for dockerfile in ("Dockerfile", "Dockerfile.worker"):
        for line in (ROOT / dockerfile).read_text().splitlines():
            if line.startswith("CMD "):
                commands.append(yaml.safe_load(line.removeprefix("CMD ")))
    return commands


def test_the_stack_has_every_part() -> None:
    services = _compose()["services"]
    assert {"api", "worker", "postgres", "redis", "seaweedfs"} <= set(services)
    assert services["worker"]["build"]["dockerfile"] == "Dockerfile.worker"


@pytest.mark.slow
@pytest.mark.parametrize("command", _iris_commands(), ids=" ".join)
def test_each_image_runs_a_real_iris_command(command: list[str]) -> None:
    assert command[0] == "iris", command
    words: list[str] = []
    for word in command[1:]:  # the (sub)command: the words before the first option
        if word.startswith("-"):
            break
        words.append(word)
    options = [w.split("=")[0] for w in command[1:] if w.startswith("--")]
    result = subprocess.run(
        [sys.executable, "-c", "from iris3d.cli.app import main; main()", *words, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for option in options:  # each option the command passes is one it takes
        assert option in result.stdout, (option, result.stdout)


def test_every_iris_variable_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\n".join(
        (ROOT / name).read_text()
        for name in ("docker-compose.yml", "Dockerfile", "Dockerfile.worker", "docs/deploy.md")
        if (ROOT / name).exists()
    )
    text = re.sub(r"IRIS_[A-Z0-9_]*\*", "", text)  # families such as IRIS_S3_* in prose
    names = set(re.findall(r"\bIRIS_([A-Z0-9_]+)", text))
    assert names, "no settings found"
    assert {n.lower() for n in names} <= set(Settings.model_fields), names
    for service in _compose()["services"].values():
        env = dict(service.get("environment") or {})
        with monkeypatch.context() as patch:  # read as the container reads them: from its env
            for key, value in env.items():
                if key.startswith("IRIS_"):
                    patch.setenv(key, str(value))
            Settings()  # and the values parse (and pass the production checks)


def test_compose_refuses_to_start_without_each_secret() -> None:
    for name in OPERATOR_ENV:
        missing = {k: v for k, v in OPERATOR_ENV.items() if k != name}
        with pytest.raises(MissingVariableError, match=name):
            _compose(missing)
    text = (ROOT / "docker-compose.yml").read_text()
    for name in OPERATOR_ENV:  # each secret appears only as a required variable
        assert not re.search(rf"^\s*{name}: +[^$\s]", text, re.MULTILINE), name


def test_only_the_api_is_published_and_every_image_runs_in_production() -> None:
    services = _compose()["services"]
    assert {name for name, s in services.items() if s.get("ports")} == {"api"}
    for service in services.values():
        env = service.get("environment") or {}
        if any(k.startswith("IRIS_") for k in env) and "build" in service:
            assert env["IRIS_ENV"] == "production"
            assert env["IRIS_S3_PRESIGN"] == "false"  # browsers cannot reach the store
    for dockerfile in ("Dockerfile", "Dockerfile.worker"):
        assert "IRIS_ENV=production" in (ROOT / dockerfile).read_text(), dockerfile


def _s3_config(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / "seaweedfs-s3-config.sh")],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_apps_s3_identity_may_use_its_bucket_only() -> None:
    keys = {k: OPERATOR_ENV[k] for k in ("IRIS_S3_ACCESS_KEY_ID", "IRIS_S3_SECRET_ACCESS_KEY")}
    made = _s3_config(**keys, S3_BUCKET="iris")
    assert made.returncode == 0, made.stderr
    (identity,) = json.loads(made.stdout)["identities"]
    assert identity["credentials"] == [
        {"accessKey": keys["IRIS_S3_ACCESS_KEY_ID"], "secretKey": keys["IRIS_S3_SECRET_ACCESS_KEY"]}
    ]
    assert identity["actions"] and all(a.endswith(":iris") for a in identity["actions"])
    assert _s3_config().returncode != 0  # no keys: refused
    weak = _s3_config(IRIS_S3_ACCESS_KEY_ID="iris", IRIS_S3_SECRET_ACCESS_KEY="iris-secret-key")
    assert weak.returncode != 0
    quote = _s3_config(**{**keys, "IRIS_S3_SECRET_ACCESS_KEY": 'x"' * 20})
    assert quote.returncode != 0  # nothing can break out of the JSON


def _locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """``deploy/<name>``: each package's pinned version and hashes, read as pip reads them."""
    text = (ROOT / "deploy" / name).read_text().replace("\\\n", " ")
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        (pin,) = requirement.specifier
        assert pin.operator == "==", line
        hashes = [o.strip() for o in options]
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), line
        pins[canonicalize_name(requirement.name)] = (pin.version, hashes)
    return pins


def test_the_images_python_packages_are_locked_with_hashes() -> None:
    locked = _locked("requirements.lock")
    build = _locked("build-requirements.lock")
    assert {"hatchling", "setuptools"} <= build.keys()
    assert all(locked[name] == pin for name, pin in build.items())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in map(Requirement, project["dependencies"]):
        name = canonicalize_name(dependency.name)
        assert name in locked, f"{name} is not in deploy/requirements.lock (scripts/lock.sh)"
        assert dependency.specifier.contains(locked[name][0]), (name, locked[name][0])
    for dockerfile in ("Dockerfile", "Dockerfile.worker"):
        text = (ROOT / dockerfile).read_text()
        assert "--require-hashes --no-deps -r deploy/build-requirements.lock" in text
        assert "--require-hashes --no-deps --no-build-isolation -r deploy/requirements.lock" in text
        assert "pip install --no-deps --no-build-isolation ." in text
        assert "--index-url" not in text  # nothing from outside the lock
