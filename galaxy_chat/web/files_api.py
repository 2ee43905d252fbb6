"""Files over HTTP: `POST /api/uploads/{conversation_id}` takes one file into a chat of the person's (the page's
attach button, drop and paste use it), `GET /api/files/{file_id}` gives a file back to its owner only.

An upload's body is the file's bytes (its name in `X-File-Name`, URL-encoded). It is streamed to a temporary file
and cut off past UPLOAD_MAX_MB, so an oversized upload never takes more than that on disk; then galaxy_chat/files
decides what it is from its content and keeps it, or refuses it with a sentence for the person.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from galaxy_chat.core.chat_files import attachment_of
from galaxy_chat.files import FileRefused, Uploads
from galaxy_chat.services import Services
from galaxy_chat.vocabulary.users import User
from galaxy_chat.web.identity import current_user

log = logging.getLogger(__name__)

FILE_KINDS = ("table", "document", "image", "text", "other")
SHOWN_INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})  # drawn by <img>, never run
NOT_FOUND = "No such file."


def refused(reason: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


def files_router(services: Services) -> APIRouter:
    router = APIRouter()

    def uploads() -> Uploads:
        if services.uploads is None:
            raise HTTPException(503, "Files cannot be attached: the chat history is not open.")
        return services.uploads

    async def owned_chat(user: User, conversation_id: str) -> bool:
        """The person's live chat (made a stored one now, so its files have a home) or a stored chat of theirs."""
        history = services.history
        if history is None:
            return False
        if services.sessions.get(conversation_id, user) is not None:
            await history.store.create_conversation(user.email, conversation_id=conversation_id)
            return True
        return await history.meta(user.email, conversation_id) is not None

    @router.post("/api/uploads/{conversation_id}")
    async def upload(request: Request, conversation_id: str) -> JSONResponse:
        user, store = current_user(request), uploads()
        if not any(services.policy.can_use(user, "upload", kind) for kind in FILE_KINDS):
            return refused("Attaching files is not enabled for you.", 403)
        name = unquote(request.headers.get("x-file-name", "")) or "file"
        limit = store.limits.max_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return refused(f"is larger than the {limit // (1 << 20)} MB allowed per file.", 413)
        if not await owned_chat(user, conversation_id):
            return refused("That chat does not exist.", 404)
        incoming = services.settings.data_dir / "incoming"
        incoming.mkdir(mode=0o700, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(dir=incoming, prefix="upload-")
        try:
            size = 0
            with os.fdopen(descriptor, "wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:  # a body without (or with a false) Content-Length: stop reading here
                        return refused(f"is larger than the {limit // (1 << 20)} MB allowed per file.", 413)
                    out.write(chunk)
            try:
                file = await store.accept(user.email, conversation_id, name, Path(temp))
            except FileRefused as refusal:
                log.info("upload %r refused for %s: %s", name, user.email, refusal.reason)
                return refused(refusal.reason)
            if not services.policy.can_use(user, "upload", file.kind):
                await store.delete(user.email, file.id)
                return refused(f"is a {file.kind} file, which you may not attach.", 403)
            return JSONResponse(attachment_of(file).model_dump(mode="json"))
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    @router.get("/api/files/{file_id}")
    async def download(request: Request, file_id: str) -> FileResponse:
        store = uploads()
        file = await store.get(current_user(request).email, file_id)
        if file is None:  # another person's file is exactly as absent as one that never was
            raise HTTPException(404, NOT_FOUND)
        inline = file.mime in SHOWN_INLINE
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                   "Cache-Control": "private, max-age=3600",
                   "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''"
                                          f"{quote(file.name)}"}
        return FileResponse(store.path_of(file), media_type=file.mime if inline else "application/octet-stream",
                            headers=headers)

    return router

