"""Who may use the web page and its WebSocket.

On loopback (the default) anyone on this machine may; on another interface a token is required
(`--web-token`, or one is made and printed). Every request's Host header must name this machine
by an IP address or a local name, so a web page elsewhere cannot reach us through DNS
rebinding; a browser's WebSocket must come from our own page (its Origin is our Host).
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def _host_name(host_header: str) -> str:
    """'Example.local:9010' -> 'example.local'; '[::1]:9010' -> '::1'."""
    try:
        return (urlsplit(f"//{host_header}").hostname or "").lower()
    except ValueError:
        return ""


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class Guard:
    def __init__(self, token: str | None, needs_token: bool) -> None:
        self.token = token if token else (secrets.token_urlsafe(16) if needs_token else None)
        me = socket.gethostname().lower()
        self.names = LOCAL_NAMES | {me, f"{me}.local", socket.getfqdn().lower()}

    def host_refusal(self, host_header: str | None) -> str | None:
        """Why this Host header is refused, or None. IP literals cannot be rebound; names must be ours."""
        name = _host_name(host_header or "")
        if not name:
            return "missing or malformed Host header"
        if _is_ip(name) or name in self.names:
            return None
        return f"Host {name[:100]!r} is not this machine (DNS rebinding?)"

    def origin_refusal(self, origin: str | None, host_header: str | None) -> str | None:
        """A browser's WebSocket must come from our own page; clients without an Origin are not browsers."""
        if origin is None:
            return None
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != (host_header or "").lower():
            return f"Origin {origin[:100]!r} is not this page's"
        return None

    def token_refusal(self, given: str | None) -> str | None:
        if self.token is None:
            return None
        if given is None:
            return "a token is required off loopback (open the URL the daemon printed, with ?token=...)"
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "wrong token"
        return None
