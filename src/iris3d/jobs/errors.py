"""Why a running job stopped before finishing. Each docstring is the default message."""

from iris3d.errors import IrisError


class JobStoppedError(IrisError):
    """The job stopped before finishing."""


class JobCancelledError(JobStoppedError):
    """The job was cancelled."""


class LeaseLostError(JobStoppedError):
    """This worker no longer holds the job (it was requeued, or its study was deleted)."""


class WorkerStoppingError(JobStoppedError):
    """The worker is shutting down; the job goes back to the queue."""
