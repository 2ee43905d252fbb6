"""The client address the app's log lines show: the TCP peer, or what a verified proxy says it forwarded.

Forwarded headers are never used for a decision. uvicorn's own rewriting of the peer from X-Forwarded-For is
switched off (`proxy_headers=False` in app.py): with it, any process on the app's host could claim to be the
proxy by sending one header.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from starlette.datastructures import Headers

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = re.compile(r'for="?\[?([^\]";,]+)', re.IGNORECASE)


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:4711"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:4711"
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def peer_in(peer: str, networks: Sequence[IpNetwork]) -> bool:
    address = parse_address(peer)
    return address is not None and any(address in network for network in networks)


def _forwarded_chain(headers: Headers) -> list[str]:
    """The addresses the proxies recorded, nearest last: X-Forwarded-For, else Forwarded, else X-Real-IP."""
    if forwarded_for := headers.get("x-forwarded-for"):
        return [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if forwarded := headers.get("forwarded"):
        return FORWARDED_FOR.findall(forwarded)
    if real_ip := headers.get("x-real-ip"):
        return [real_ip.strip()]
    return []


def client_address(peer: str, headers: Headers, verified_proxy: bool, networks: Sequence[IpNetwork]) -> str:
    """`peer` itself, unless the request came through a verified proxy: then the nearest forwarded address that
    is not one of the trusted proxies, shown as "client via peer" so the log keeps both."""
    if not verified_proxy:
        return peer
    for entry in reversed(_forwarded_chain(headers)):
        address = parse_address(entry)
        if address is None:
            break  # a garbled chain: believe nothing further out
        if not any(address in network for network in networks):
            return f"{address} via {peer}"
    return peer
