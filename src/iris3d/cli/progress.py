"""Rich progress bars, one per pipeline stage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from iris3d.contracts import Stage
from iris3d.pipeline import ProgressSink


@contextmanager
def stage_bars() -> Iterator[ProgressSink]:
    """A :class:`ProgressSink` drawing a bar per stage; bars appear as their stage starts."""
    with Progress(
        TextColumn("[bold]{task.fields[stage]:<8}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        transient=False,
    ) as bars:
        tasks: dict[Stage, TaskID] = {}

        def report(stage: Stage, fraction: float, message: str) -> None:
            if stage not in tasks:
                for earlier in tasks.values():
                    bars.update(earlier, completed=100)
                tasks[stage] = bars.add_task(message, total=100, stage=stage.value)
            bars.update(tasks[stage], completed=round(100 * fraction), description=message)

        yield report
        for task in tasks.values():
            bars.update(task, completed=100)
