"""``python -m iris3d.receiver``: the C-STORE receiver, as ``iris dicom-receiver`` runs it."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from iris3d.receiver.service import run_receiver
from iris3d.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s dicom %(process)d %(message)s")
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_receiver(get_settings(), stop)


if __name__ == "__main__":
    main()
