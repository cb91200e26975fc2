"""Who is on the other end: the client's address and scheme, believing proxies only when told.

``iris serve`` turns uvicorn's own proxy-header handling off (``FORWARDED_ALLOW_IPS=*`` would let
any client choose the address its rate limits count against); this module is the one place that
reads ``X-Forwarded-For`` and ``X-Forwarded-Proto``, and only from ``IRIS_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientResolver:
    trusted: tuple[Network, ...]

    @classmethod
    def from_settings(cls, proxies: Iterable[str]) -> ClientResolver:
        return cls(tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies))

    def _is_trusted(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.trusted)

    def address(self, connection: HTTPConnection) -> str:
        """The client's address: the peer, or behind trusted proxies the nearest untrusted
        address in ``X-Forwarded-For`` (read right to left; what a client writes itself on the
        left is never reached while a trusted proxy appended the real one)."""
        peer = connection.client.host if connection.client else "-"
        if not self._is_trusted(peer):
            return peer
        forwarded = [h.strip() for h in connection.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in forwarded if h]):
            if _address(hop) is None:
                return peer  # garbage from the client: count it against the proxy's address
            if not self._is_trusted(hop):
                return hop
        return peer

    def is_https(self, connection: HTTPConnection) -> bool:
        if connection.url.scheme in ("https", "wss"):
            return True
        peer = connection.client.host if connection.client else "-"
        proto = connection.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        return self._is_trusted(peer) and proto == "https"
