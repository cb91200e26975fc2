"""Turn pip's ``pylock.toml`` into requirements files with hashes, which any pip installs with
``--require-hashes``: the build tools apart (installed first, so that packages published only as
source build offline with ``--no-build-isolation``), then everything else. Run by scripts/lock.sh.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

BUILD_TOOLS = {
    "hatchling",
    "setuptools",
    "wheel",
    "packaging",
    "pathspec",
    "pluggy",
    "trove-classifiers",
}
HEADER = (
    "# Made by scripts/lock.sh from pyproject.toml (PyPI, CPython 3.11, Linux x86_64); "
    "do not edit.\n"
)


def requirement(package: dict[str, Any]) -> str:
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    hashes = sorted({f["hashes"]["sha256"] for f in files})
    if not hashes:
        raise SystemExit(f"{package['name']}: no file with a hash in the lock")
    marker = f" ; {package['marker']}" if "marker" in package else ""
    lines = [f"{package['name']}=={package['version']}{marker}"]
    lines += [f"    --hash=sha256:{digest}" for digest in hashes]
    return " \\\n".join(lines) + "\n"


def main(lock: Path, out_dir: Path) -> None:
    packages = [p for p in tomllib.loads(lock.read_text())["packages"] if "directory" not in p]
    build = [p for p in packages if p["name"] in BUILD_TOOLS]
    (out_dir / "build-requirements.lock").write_text(HEADER + "".join(map(requirement, build)))
    (out_dir / "requirements.lock").write_text(HEADER + "".join(map(requirement, packages)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
