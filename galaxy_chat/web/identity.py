"""Identity from the reverse proxy, checked on every HTTP request and on the WebSocket handshake.

A pure ASGI middleware (not `@app.middleware('http')`), because only this kind sees NiceGUI's socket.io
WebSocket scope as well as plain HTTP. The proxy allow-list is checked against the real TCP peer: uvicorn runs
with `proxy_headers=False`, so no X-Forwarded-For, X-Real-IP or Forwarded header can change it.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.users import User, normalise_email
from galaxy_chat.web.client_address import client_address, peer_in

log = logging.getLogger(__name__)

EMAIL_HEADER = "x-email-user"
SECRET_HEADER = "x-proxy-secret"
PUBLIC_PATHS = frozenset({"/health", "/metrics"})  # /metrics checks identity or its token itself
SOCKET_PREFIX = "/_nicegui_ws/"


@dataclass(frozen=True)
class Rejection:
    status: int
    title: str
    detail: str


def current_user(connection: HTTPConnection) -> User:
    """The user the middleware attached to this request; absent only if the middleware is missing."""
    user = connection.scope.get("state", {}).get("user")
    if not isinstance(user, User):
        raise RuntimeError("IdentityMiddleware is not installed")
    return user


def client_of(connection: HTTPConnection) -> str:
    """The client address for log lines (see client_address.py); the peer when the middleware set none."""
    address = connection.scope.get("state", {}).get("client_address")
    return str(address) if address else (connection.client.host if connection.client else "")


class IdentityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.networks = settings.proxy_networks
        self.secret = settings.trusted_proxy_secret.get_secret_value().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or (
            scope["type"] == "http" and scope["path"] in PUBLIC_PATHS
        ):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        verdict = self.identify(connection)
        if isinstance(verdict, Rejection):
            await _reject(scope, send, connection, verdict)
            return
        state = scope.setdefault("state", {})
        state["user"] = verdict
        state["client_address"] = self._client_address(connection)
        await self.app(scope, receive, send)

    def _client_address(self, connection: HTTPConnection) -> str:
        """For log lines only: who the verified proxy says the client is (the peer itself otherwise)."""
        peer = connection.client.host if connection.client else ""
        verified = bool(self.networks or self.secret) and not self.settings.test_mode
        return client_address(peer, connection.headers, verified, self.networks)

    def identify(self, connection: HTTPConnection) -> User | Rejection:
        headers = connection.headers
        peer = connection.client.host if connection.client else ""
        path = connection.url.path
        if not self.settings.test_mode:
            if self.networks and not peer_in(peer, self.networks):
                log.warning("refused %s %s: peer %s is not a trusted proxy", connection.scope["type"], path, peer)
                return Rejection(401, "Not signed in", "This request did not come through the trusted proxy.")
            if self.secret and not hmac.compare_digest(headers.get(SECRET_HEADER, "").encode(), self.secret):
                log.warning("refused %s %s from %s: missing or wrong proxy secret", connection.scope["type"],
                            path, peer)
                return Rejection(401, "Not signed in", "This request did not come through the trusted proxy.")
        raw_email = headers.get(EMAIL_HEADER)
        if raw_email is None:
            if self.settings.test_mode:
                raw_email = self.settings.test_email
            else:
                return Rejection(401, "Not signed in", "Sign in through your organisation's proxy to use this app.")
        email = normalise_email(raw_email)
        if email is None:
            log.warning("refused %s %s from %s: malformed email header", connection.scope["type"], path, peer)
            return Rejection(400, "Bad identity", "The X-EMAIL-USER header is not a valid email address.")
        if (connection.scope["type"] == "websocket" or path.startswith(SOCKET_PREFIX)) and not self._origin_ok(
            connection
        ):
            log.warning("refused socket %s from %s: foreign origin %r", path, peer, headers.get("origin"))
            return Rejection(403, "Forbidden", "Connections from another site are not allowed.")
        return User(email=email, test_mode=self.settings.test_mode)

    def _origin_ok(self, connection: HTTPConnection) -> bool:
        origin = connection.headers.get("origin")
        if origin is None:  # not a browser: no cross-site hijacking risk
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.settings.extra_origins:
            return True
        hosts = {connection.headers.get("host", "").lower()}
        if self.networks or self.secret:  # the proxy was verified, so its forwarded host is believable
            hosts.add(connection.headers.get("x-forwarded-host", "").split(",")[0].strip().lower())
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc in hosts


async def _reject(scope: Scope, send: Send, connection: HTTPConnection, rejection: Rejection) -> None:
    wants_html = "text/html" in connection.headers.get("accept", "")
    if wants_html:
        body = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{rejection.status} {rejection.title}"
            f"</title></head><body style='font-family:sans-serif;background:#121212;color:#eee;padding:2em'>"
            f"<h1>{html.escape(rejection.title)}</h1><p>{html.escape(rejection.detail)}</p></body></html>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"detail": rejection.detail}).encode()
        content_type = b"application/json"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": rejection.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": rejection.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # servers without the denial-response extension answer 403
        await send({"type": "websocket.close", "code": 1008})
