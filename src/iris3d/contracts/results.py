"""A folder of one job's results, as ``iris process`` or ``iris compare`` leaves it and a worker
stores it: each file named by its :class:`ArtifactName` (see ``ARTIFACT_FILES``), and for a
processed study a ``manifest.json`` saying how it was made and which files it holds.

Only names and paths here: what is inside the files is the writing layers' business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from iris3d.contracts.artifacts import ArtifactName, artifact_filename, missing_artifacts


@dataclass(frozen=True)
class ResultsFolder:
    path: Path

    def file(self, name: ArtifactName) -> Path:
        """Where the artifact ``name`` lives (whether or not it was written yet)."""
        return self.path / artifact_filename(name)

    def files(self) -> dict[ArtifactName, Path]:
        """The artifacts the folder holds, by name."""
        return {name: path for name in ArtifactName if (path := self.file(name)).is_file()}

    def missing(self, required: Iterable[ArtifactName]) -> list[ArtifactName]:
        """Those of ``required`` the folder lacks, in order."""
        return missing_artifacts(self.files(), required)

    def write_manifest(self, manifest: Mapping[str, object]) -> Path:
        """Write ``manifest`` as ``manifest.json`` with the files listed (itself included): call
        it once every other file is written."""
        path = self.file(ArtifactName.MANIFEST)
        names = sorted({*self.files(), ArtifactName.MANIFEST})
        listed = {name.value: artifact_filename(name) for name in names}
        path.write_text(json.dumps({**manifest, "files": listed}, indent=2), encoding="utf-8")
        return path
