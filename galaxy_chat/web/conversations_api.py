"""The signed-in person's stored conversations over HTTP, theirs only (anything else is 404, like nothing):

    GET    /api/conversations?query=&cursor=     a page of chats, newest first (pinned first); with `query`, a
                                                 ranked search with highlighted snippets
    GET    /api/conversations/{id}               the chat and its messages (their events, as the codec writes them)
    PATCH  /api/conversations/{id}               {"title": "...", "pinned": true}
    DELETE /api/conversations/{id}               gone from the list and search at once (purged later)
    DELETE /api/conversations                    all of the caller's chats, for good
    GET    /api/conversations/{id}/export.{ext}  txt, md or json, from the store
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from galaxy_chat.core.export import ExportHeader, export_bytes
from galaxy_chat.core.history import History
from galaxy_chat.core.history_restore import pairs, turn_of
from galaxy_chat.services import Services
from galaxy_chat.store import ConversationMeta, StoredMessage
from galaxy_chat.web.identity import current_user

PREFIX = "/api/conversations"
NOT_FOUND = "No such conversation."


def meta_json(meta: ConversationMeta) -> dict[str, Any]:
    return {"id": meta.id, "title": meta.title, "models": meta.models, "tools": meta.tools,
            "data_sources": meta.data_sources, "created_at": meta.created_at.isoformat(),
            "updated_at": meta.updated_at.isoformat(), "pinned": meta.pinned}


def message_json(message: StoredMessage) -> dict[str, Any]:
    return {"id": message.id, "role": message.role, "model": message.model, "status": message.status.value,
            "created_at": message.created_at.isoformat(), "version": message.version,
            "versions": list(message.versions), "text": message.text, "parts": message.parts}


def conversations_router(services: Services) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    async def opened() -> History:
        opened = await services.opened_history()
        if opened is None:
            raise HTTPException(503, "The conversation history is not open.")
        return opened

    @router.get("")
    async def list_or_search(request: Request, query: str = "", cursor: str | None = None) -> dict[str, Any]:
        history = await opened()
        owner = current_user(request).email
        if query.strip():
            hits = await history.search(owner, query)
            return {"query": query, "hits": [
                {"id": hit.conversation_id, "message_id": hit.message_id, "title": hit.title,
                 "updated_at": hit.updated_at.isoformat(), "rank": hit.rank,
                 "snippet": [{"text": text, "match": match} for text, match in hit.snippet]} for hit in hits]}
        try:
            page = await history.page(owner, cursor)
        except ValueError:
            raise HTTPException(400, "The cursor is not one this server gave out.") from None
        return {"items": [{"id": item.id, "title": item.title, "updated_at": item.updated_at.isoformat(),
                           "pinned": item.pinned, "preview": item.preview} for item in page.items],
                "next_cursor": page.next_cursor}

    @router.get("/{conversation_id}")
    async def show(request: Request, conversation_id: str) -> dict[str, Any]:
        history = await opened()
        view = await history.load(current_user(request).email, conversation_id)
        if view is None:
            raise HTTPException(404, NOT_FOUND)
        return {**meta_json(view.meta), "messages": [message_json(message) for message in view.messages]}

    @router.patch("/{conversation_id}")
    async def change(request: Request, conversation_id: str) -> dict[str, Any]:
        history = await opened()
        owner = current_user(request).email
        body = await request.json() if await request.body() else {}
        if not isinstance(body, dict) or not set(body) <= {"title", "pinned"} or not body:
            raise HTTPException(400, 'Send a JSON object with "title" (text) and/or "pinned" (true/false).')
        if ("title" in body and not isinstance(body["title"], str)) or (
                "pinned" in body and not isinstance(body["pinned"], bool)):
            raise HTTPException(400, '"title" must be text and "pinned" true or false.')
        if await history.meta(owner, conversation_id) is None:
            raise HTTPException(404, NOT_FOUND)
        if "title" in body and not await history.rename(owner, conversation_id, body["title"]):
            raise HTTPException(400, "A title needs at least one character.")
        if "pinned" in body:
            await history.pin(owner, conversation_id, body["pinned"])
        meta = await history.meta(owner, conversation_id)
        assert meta is not None
        return meta_json(meta)

    @router.delete("/{conversation_id}")
    async def delete(request: Request, conversation_id: str) -> Response:
        history = await opened()
        if not await history.delete(current_user(request).email, conversation_id):
            raise HTTPException(404, NOT_FOUND)
        return Response(status_code=204)

    @router.delete("")
    async def delete_all(request: Request) -> JSONResponse:
        history = await opened()
        return JSONResponse({"deleted": await history.delete_all(current_user(request).email)})

    @router.get("/{conversation_id}/export.{ext}")
    async def export(request: Request, conversation_id: str, ext: Literal["txt", "md", "json"]) -> Response:
        history = await opened()
        owner = current_user(request).email
        view = await history.load(owner, conversation_id)
        if view is None:
            raise HTTPException(404, NOT_FOUND)
        turns = [turn_of(user, reply) for user, reply in pairs(view.messages)]
        meta = view.meta
        header = ExportHeader(services.settings.app_name, owner, meta.id, meta.created_at,
                              meta.models[-1] if meta.models else "", meta.tools, meta.data_sources)
        data, filename, media_type = await asyncio.to_thread(export_bytes, ext, header, turns)
        return Response(data, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return router
