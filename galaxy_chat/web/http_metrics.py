"""HTTP and WebSocket metrics for every request, as a pure ASGI middleware (the outermost one, so refusals by
the identity check count too). Requests are labelled by their route template (`/c/{conversation_id}`), never by
the raw path, so the number of series stays bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from galaxy_chat.observability import metrics

UNMATCHED = "unmatched"


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes  # the app's routes, to name a request the router never saw (a refusal)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            metrics.WEBSOCKETS.inc()
            try:
                await self.app(scope, receive, send)
            finally:
                metrics.WEBSOCKETS.dec()
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = [500]  # what an exception that escapes becomes

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = metrics.bounded("route", self.template(scope))
            metrics.HTTP_REQUESTS.labels(route, scope.get("method", ""), str(status[0])).inc()
            metrics.HTTP_DURATION.labels(route).observe(time.perf_counter() - began)

    def template(self, scope: Scope) -> str:
        route: Any = scope.get("route")
        if route is None:  # refused before routing, or no route at all
            route = next((r for r in self.routes() if r.matches(scope)[0] is Match.FULL), None)
        path = getattr(route, "path", None)
        return str(path) if path else UNMATCHED
