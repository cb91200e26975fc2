"""The deployment files name only what exists: every command an image runs is a real ``iris``
command, and every ``IRIS_*`` variable is a setting (Docker cannot run here to try them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from iris3d.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
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


def test_every_iris_variable_is_a_setting() -> None:
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
        values = {k.removeprefix("IRIS_").lower(): v for k, v in env.items() if k[:5] == "IRIS_"}
        Settings(**values)  # and the values parse (and pass the production checks)
