"""`GET /metrics`: this replica's Prometheus metrics, for a scraper with METRICS_TOKEN as a bearer token or
a person of the `admins` group (through the proxy, like every other route). Never public: 401 without either,
403 for a signed-in person who is not an admin. The identity middleware lets the path through so a scraper
need not pose as the proxy; the same identity check runs here instead."""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from access.policy import Policy, is_admin
from galaxy_chat.observability import metrics
from galaxy_chat.settings import Settings
from galaxy_chat.web.identity import IdentityMiddleware, Rejection

METRICS_PATH = "/metrics"


def add_metrics_route(app: FastAPI, settings: Settings, policy: Policy) -> None:
    """A route of the app itself, not an included router: each include nests FastAPI's lifespan once more."""
    token = settings.metrics_token.get_secret_value().encode()
    identity = IdentityMiddleware(lambda *_: None, settings)  # type: ignore[arg-type,return-value]  # its check only

    def refused(status: int, detail: str) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if status == 401 else None
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    async def read_metrics(request: Request) -> Response:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if token and hmac.compare_digest(presented.strip().encode(), token):
                body, content_type = metrics.exposition()
                return Response(body, media_type=content_type)
            return refused(401, "The metrics token is wrong.")
        verdict = identity.identify(request)
        if isinstance(verdict, Rejection):
            return refused(verdict.status, verdict.detail)
        if not is_admin(policy, verdict):
            return refused(403, "Only admins may read the metrics.")
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    app.add_api_route(METRICS_PATH, read_metrics, methods=["GET"], include_in_schema=False)
