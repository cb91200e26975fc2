"""Each user's own PACS servers. Every read takes the owner."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris3d.store.models import PacsServer


def add_server(
    session: Session,
    *,
    owner_id: str,
    name: str,
    url: str,
    auth: str,
    username: str | None,
    secret: str | None,
) -> PacsServer:
    server = PacsServer(
        owner_id=owner_id, name=name, url=url, auth=auth, username=username, secret=secret
    )
    session.add(server)
    session.flush()
    return server


def list_servers(session: Session, owner_id: str) -> list[PacsServer]:
    query = select(PacsServer).where(PacsServer.owner_id == owner_id)
    return list(session.scalars(query.order_by(PacsServer.created_at, PacsServer.id)))


def owned_server(session: Session, owner_id: str, server_id: str) -> PacsServer | None:
    return session.scalar(
        select(PacsServer).where(PacsServer.id == server_id, PacsServer.owner_id == owner_id)
    )


def remove_server(session: Session, owner_id: str, server_id: str) -> bool:
    result = session.execute(
        delete(PacsServer).where(PacsServer.id == server_id, PacsServer.owner_id == owner_id)
    )
    return bool(getattr(result, "rowcount", 0))
