"""Monotonic counters kept in the database, so figures written by many worker processes add up
(Prometheus reads them back through the API's ``/metrics``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from iris3d.store.models import Counter


def add(session: Session, name: str, labels: str, amount: float) -> None:
    result = session.execute(
        update(Counter)
        .where(Counter.name == name, Counter.labels == labels)
        .values(value=Counter.value + amount)
    )
    if getattr(result, "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.add(Counter(name=name, labels=labels, value=amount))
    except IntegrityError:  # another process created it first
        add(session, name, labels, amount)


def observe(
    session: Session, name: str, label: str, value: float, buckets: Sequence[float]
) -> None:
    """Add one observation to a histogram ``name`` for ``label`` (cumulative buckets)."""
    for bound in buckets:
        if value <= bound:
            add(session, f"{name}_bucket", f"{label}|{bound:g}", 1.0)
    add(session, f"{name}_bucket", f"{label}|+Inf", 1.0)
    add(session, f"{name}_count", label, 1.0)
    add(session, f"{name}_sum", label, value)


def read(session: Session, prefix: str) -> dict[tuple[str, str], float]:
    rows = session.execute(
        select(Counter.name, Counter.labels, Counter.value).where(Counter.name.startswith(prefix))
    )
    return {(name, labels): float(value) for name, labels, value in rows}
