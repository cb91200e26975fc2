"""``iris dicom-receiver``: the DICOM C-STORE receiver a PACS routes studies to."""

from __future__ import annotations

import os
import subprocess
import sys

import typer

from iris3d.cli.common import friendly_errors
from iris3d.settings import Settings

RECEIVER_COMMAND = (sys.executable, "-m", "iris3d.receiver")


def register(app: typer.Typer) -> None:
    app.command(name="dicom-receiver")(dicom_receiver)


@friendly_errors
def dicom_receiver() -> None:
    """Receive studies by DICOM C-STORE on IRIS_DICOM_PORT as IRIS_DICOM_AE_TITLE, and process
    each once quiet for IRIS_DICOM_QUIET_SECONDS by its owner's rule (docs/interop.md).

    IRIS_DICOM_AE_ROUTES says which account owns what arrives. `iris serve` runs this itself
    when IRIS_DICOM_PORT is set."""
    from iris3d.receiver.__main__ import main

    main([])


def start_receiver(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The receiver as a child of ``iris serve``, when a port is configured: its own process,
    so the API's processes never compete for the DICOM port."""
    if settings.dicom_port is None:
        return None
    return subprocess.Popen([*RECEIVER_COMMAND, "--parent", str(os.getpid())])


def stop_receiver(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
