"""``python -m iris3d.receiver``: the C-STORE receiver, as ``iris dicom-receiver`` runs it."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from iris3d.jobs.worker import stop_with_parent
from iris3d.receiver.service import run_receiver
from iris3d.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The DICOM C-STORE receiver.")
    parser.add_argument("--parent", type=int, help="Stop when this process ends (iris serve).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s dicom %(process)d %(message)s")
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if args.parent:  # killed with it, even by SIGKILL: no receiver outlives `iris serve`
        stop_with_parent(args.parent, stop)
    run_receiver(get_settings(), stop)


if __name__ == "__main__":
    main()
