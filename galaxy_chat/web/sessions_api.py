"""The signed-in user's own session over HTTP: its id and its export. Never anyone else's.

A session id that is not the caller's current session answers 404 exactly like an unknown one, so
the answer does not even reveal whether the id exists.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from galaxy_chat.core.export import ExportHeader, export_bytes
from galaxy_chat.services import Services
from galaxy_chat.web.identity import current_user

NOT_FOUND = "No such session."


def sessions_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/sessions")

    @router.get("")
    async def my_sessions(request: Request) -> dict[str, Any]:
        session = services.sessions.active_for(current_user(request))
        return {"sessions": [{"id": session.id, "model": session.model, "turns": len(session.turns),
                              "started_at": session.started_at.isoformat(), "busy": session.busy}]}

    @router.get("/{session_id}/export.{ext}")
    async def export(request: Request, session_id: str, ext: Literal["txt", "md", "json"]) -> Response:
        session = services.sessions.get(session_id, current_user(request))
        if session is None:
            raise HTTPException(404, NOT_FOUND)
        header = ExportHeader.of(session, services.settings.app_name)
        data, filename, media_type = await asyncio.to_thread(export_bytes, ext, header, list(session.turns))
        return Response(data, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return router
