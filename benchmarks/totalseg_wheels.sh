#!/usr/bin/env bash
# The wheels benchmarks/gpu_check.sh needs on the GPU machine (Python 3.12; the image has torch,
# numpy, scipy, pandas, scikit-image, requests, tqdm, psutil, ... but not these), into .whl/
# (ignored by git: `echo /.whl/ >> .git/info/exclude`). The large compiled ones are recompressed
# with LZMA so that all of them travel in about 50 MB (the device tool carries 64 MiB at most).
# The list was checked by importing the engine, TotalSegmentator's API and nnU-Net's predictor
# with every package outside the image's list and this one blocked.
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
mkdir -p .whl
platforms=()
for p in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
    platforms+=(--platform "${p}_x86_64")
done
for pkg in totalsegmentator==2.18.0 nnunetv2==2.8.1 dynamic-network-architectures==0.4.4 \
    batchgenerators==0.25.5 batchgeneratorsv2==0.3.6 nibabel==5.4.2 simpleitk==2.5.7 \
    blosc2==4.15.0 ndindex==1.10.1 connected-components-3d==4.1.1 dicom2nifti==2.6.2 \
    pydicom==3.0.2 pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 \
    python-dotenv==1.2.4 annotated-types==0.8.0 typing-inspection==0.4.5; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${platforms[@]}" -d .whl "$pkg"
done
# acvl-utils is published as a source archive only: pure Python, so a wheel built here serves.
python3 -m pip wheel -q --no-deps --no-build-isolation -w .whl acvl-utils==0.2.6
python3 - <<'PY'
import glob, os, zipfile
for wheel in glob.glob(".whl/simpleitk-*.whl") + glob.glob(".whl/blosc2-*.whl") + glob.glob(
    ".whl/connected_components_3d-*.whl"
):
    packed = wheel + ".tmp"
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_LZMA) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    os.replace(packed, wheel)
PY
du -sh .whl
