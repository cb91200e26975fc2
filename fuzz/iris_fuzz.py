"""Coverage-guided fuzzing of every reader of untrusted files (atheris).

    python fuzz/iris_fuzz.py TARGET [libFuzzer options, e.g. -max_total_time=60 CORPUS_DIR]

Targets: nifti, nrrd, mha, mhd (header + data file), dicomfile, dicomfolder, zip, labelmap,
maskfolder, dicomseg; ``all`` fuzzes them all in one process (its first byte picks the reader).
Only Iris's own errors (``IrisError``) may escape a reader: anything else is a crash, saved by
libFuzzer as ``crash-*`` (see ``-artifact_prefix``). Seeds come from the phantom.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["iris3d"]):
    # the readers load_study imports lazily, so that they are instrumented too
    import iris3d.ingest.archive
    import iris3d.ingest.dicom
    import iris3d.ingest.itk
    import iris3d.ingest.nifti
    import iris3d.segment.imported.dicomseg
    import iris3d.segment.imported.nifti  # noqa: F401
    sys.path.insert(0, str(Path(__file__).parent))
    from seeds import make_seeds
    from targets import TARGETS, WORK, run_target



def main() -> None:
    logging.disable(logging.WARNING)  # nibabel and pydicom narrate every odd header
    warnings.simplefilter("ignore")
    if len(sys.argv) < 2 or sys.argv[1] not in (*TARGETS, "all"):
        raise SystemExit(f"usage: iris_fuzz.py {{{','.join(TARGETS)},all}} [libFuzzer options]")
    target = sys.argv[1]
    args = [sys.argv[0], *sys.argv[2:]]
    corpus = [a for a in args[1:] if not a.startswith("-")]
    if corpus:
        Path(corpus[0]).mkdir(parents=True, exist_ok=True)
        for name, seed in _seeds(target):
            (Path(corpus[0]) / name).write_bytes(seed)
    atheris.Setup(args, lambda data: run_target(target, data) if target != "all" else _any(data))
    atheris.Fuzz()


def _seeds(target: str) -> list[tuple[str, bytes]]:
    if target != "all":
        return [(f"seed-{n}", seed) for n, seed in enumerate(make_seeds(target, WORK))]
    # "all": the first byte picks the target, so one short run (CI's) covers every reader
    return [(f"seed-{name}-{n}", bytes([index]) + seed)
            for index, name in enumerate(TARGETS)
            for n, seed in enumerate(make_seeds(name, WORK))]


def _any(data: bytes) -> None:
    if data:
        run_target(TARGETS[data[0] % len(TARGETS)], data[1:])


if __name__ == "__main__":
    main()
