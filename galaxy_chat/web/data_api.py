"""`GET /data` (the data sources this person may use) and `GET /data/{id}` (metadata and a small preview).

The Policy decides; a source the person may not use is 403 and is never opened. Previews read files and
SQLite, so they run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from access.policy import Policy
from galaxy_chat.data.data_sources import DataSources
from galaxy_chat.data.search_index import SourceUnavailable
from galaxy_chat.web.identity import current_user

log = logging.getLogger(__name__)


def data_router(policy: Policy, sources: DataSources) -> APIRouter:
    router = APIRouter()

    @router.get("/data")
    async def list_sources(request: Request) -> dict[str, Any]:
        user = current_user(request)
        permitted = policy.data_sources_for(user, sources.ids())
        return {"sources": [sources.describe(source_id) for source_id in permitted]}

    @router.get("/data/{source_id}")
    async def show_source(source_id: str, request: Request) -> JSONResponse:
        user = current_user(request)
        if sources.get(source_id) is None:
            return JSONResponse({"detail": f"There is no data source {source_id!r}."}, status_code=404)
        if not (policy.can_use(user, "data_source", source_id)
                and policy.data_sources_for(user, [source_id]) == [source_id]):
            log.warning("refused data source %r for %s (not permitted)", source_id, user.email)
            return JSONResponse({"detail": f"You may not use the data source {source_id!r}."}, status_code=403)
        try:
            body = await asyncio.to_thread(sources.preview, source_id)
        except SourceUnavailable as exc:
            return JSONResponse({**sources.describe(source_id), "detail": str(exc)}, status_code=503)
        return JSONResponse(body)

    return router
