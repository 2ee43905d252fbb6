"""`Uploads`: accepting a file into a chat, and everything later asked of a chat's files.

Limits are checked before a byte is copied where they can be (count per chat, the owner's total) and
again while copying (size). One accept per owner at a time, so two parallel uploads cannot both slip
under a quota. Files belong to a conversation the history store knows: create it before the first upload.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from galaxy_chat.files import passages, table_views
from galaxy_chat.files.errors import FileRefused
from galaxy_chat.files.names import display_name, unique_name
from galaxy_chat.files.processing import process, undo
from galaxy_chat.files.storage import Layout, copy_in
from galaxy_chat.settings import Settings
from galaxy_chat.store import FileRecord, HistoryStore, NotFound
from galaxy_chat.vocabulary.passages import Passage
from galaxy_chat.vocabulary.widgets import Table

log = logging.getLogger(__name__)

MB = 1024 * 1024
SWEEP_GRACE_S = 3600.0  # a folder this young may belong to an upload still being accepted
StoredFile = FileRecord


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 50 * MB
    max_files_per_chat: int = 20
    max_bytes_per_user: int = 500 * MB

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(settings.upload_max_mb * MB, settings.upload_max_files_per_chat,
                   settings.upload_max_mb_per_user * MB)


class Uploads:
    def __init__(self, store: HistoryStore, data_dir: Path, limits: UploadLimits | None = None) -> None:
        self.store = store
        self.layout = Layout(data_dir)
        self.limits = limits or UploadLimits()
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: Settings, store: HistoryStore) -> Uploads:
        return cls(store, settings.data_dir, UploadLimits.from_settings(settings))

    # -- accepting ---------------------------------------------------------------------------------------

    async def accept(self, owner: str, conversation_id: str, name: str, source: Path | bytes) -> StoredFile:
        """Keep `source` (a temporary file's path, or the bytes) as a file of the chat; FileRefused if not
        (ValueError for a conversation id that is not of the form the app makes)."""
        self.layout.chat_dir(owner, conversation_id)  # ValueError for an id that is not one of ours
        async with self._locks.setdefault(owner, asyncio.Lock()):
            if await self.store.get_conversation(owner, conversation_id) is None:  # before a byte is written
                raise FileRefused("This chat no longer exists.")
            existing = await self.store.list_files(owner, conversation_id)
            if len(existing) >= self.limits.max_files_per_chat:
                raise FileRefused(f"This chat already holds {len(existing)} files, the most allowed: remove one "
                                  "first.")
            incoming = len(source) if isinstance(source, bytes | bytearray) else Path(source).stat().st_size
            if incoming > self.limits.max_bytes:
                raise FileRefused(f"This file is larger than the {self.limits.max_bytes // MB} MB allowed.")
            await self._check_quota(owner, incoming)
            file_id = secrets.token_hex(16)
            shown = unique_name(display_name(name), {record.name for record in existing})
            record = await asyncio.to_thread(self._keep, owner, conversation_id, file_id, shown, source)
            try:
                await self._check_quota(owner, record.size)
                await self.store.add_file(record)
            except BaseException as exc:
                await asyncio.to_thread(self._remove_disk, record)
                if isinstance(exc, NotFound):
                    raise FileRefused("This chat no longer exists.") from None
                raise
            log.info("upload %s: %s, %d bytes, %s (%s)", file_id, record.kind, record.size, record.mime, owner)
            return record

    async def _check_quota(self, owner: str, size: int) -> None:
        used = await self.store.file_usage(owner)
        if used + size > self.limits.max_bytes_per_user:
            raise FileRefused(f"Your files would take more than the {self.limits.max_bytes_per_user // MB} MB "
                              f"allowed per person ({used / MB:,.1f} MB used): remove some first.")

    def _keep(self, owner: str, conversation_id: str, file_id: str, name: str, source: Path | bytes) -> StoredFile:
        self.layout.ensure_chat_dir(owner, conversation_id)
        path = self.layout.file_path(owner, conversation_id, file_id)
        tables_db = self.layout.tables_db(owner, conversation_id)
        index_db = self.layout.index_db(owner, conversation_id)
        try:
            size, digest = copy_in(source, path, self.limits.max_bytes)
            detected, meta = process(path, name, file_id, tables_db, index_db)
        except FileRefused:
            path.unlink(missing_ok=True)
            raise
        except Exception:
            path.unlink(missing_ok=True)
            log.exception("upload %s could not be processed", file_id)
            raise FileRefused("This file could not be read.") from None
        return FileRecord(id=file_id, owner=owner, conversation_id=conversation_id, name=name, kind=detected.kind,
                          mime=detected.mime, size=size, sha256=digest, created_at=datetime.now(UTC), meta=meta)

    # -- reading -----------------------------------------------------------------------------------------

    async def list_files(self, owner: str, conversation_id: str) -> list[StoredFile]:
        return await self.store.list_files(owner, conversation_id)

    async def get(self, owner: str, file_id: str) -> StoredFile | None:
        return await self.store.get_file(owner, file_id)

    def path_of(self, file: StoredFile) -> Path:
        return self.layout.file_path(file.owner, file.conversation_id, file.id)

    async def read_bytes(self, file: StoredFile) -> bytes:
        """The file's bytes as uploaded (for showing an image, or sending it to a vision model)."""
        return await asyncio.to_thread(self.path_of(file).read_bytes)

    @staticmethod
    def chip(file: StoredFile) -> str:
        """A few words for the file's chip: "12,840 rows x 9 columns", "12 pages", "800 x 600"."""
        if file.kind == "table":
            return table_views.chip(file.meta)
        if file.kind == "image" and "width" in file.meta:
            return f"{file.meta['width']} {table_views.TIMES} {file.meta['height']}"
        if "pages" in file.meta:
            return f"{file.meta['pages']} pages"
        return ""

    def table_database(self, owner: str, conversation_id: str) -> Path | None:
        """The chat's tables.db for the sql tool (open it with sqlite_readonly); None while it has no table."""
        path = self.layout.tables_db(owner, conversation_id)
        return path if path.is_file() else None

    async def preview(self, file: StoredFile, rows: int = 20) -> Table | None:
        """The first rows of a table file (its first table), or None for other kinds."""
        tables = file.meta.get("tables") or []
        if file.kind != "table" or not tables:
            return None
        database = self.layout.tables_db(file.owner, file.conversation_id)
        return await asyncio.to_thread(table_views.preview, database, tables[0], rows)

    async def tables_context(self, owner: str, conversation_id: str,
                             max_chars: int = table_views.CONTEXT_CHARS) -> str:
        """The chat's tables (schema and first rows) as a capped text for the model; "" when none."""
        tables = [(file.name, table) for file in await self.list_files(owner, conversation_id) if file.kind == "table"
                  for table in file.meta.get("tables", [])]
        database = self.layout.tables_db(owner, conversation_id)
        return await asyncio.to_thread(table_views.tables_context, database, tables, max_chars)

    async def retrieve(self, owner: str, conversation_id: str, query: str, limit: int = 4) -> list[Passage]:
        """The chat's document passages that best answer `query` (cited by file name and page)."""
        documents = {file.id: file.name for file in await self.list_files(owner, conversation_id)
                     if file.kind in ("document", "text")}
        if not documents:
            return []
        return await asyncio.to_thread(passages.search_documents, self.layout.index_db(owner, conversation_id),
                                       documents, query, limit)

    async def sandbox_files(self, owner: str, conversation_id: str) -> list[tuple[str, Path]]:
        """(display name, path on disk) of each of the chat's files: what the python tool shows in /data."""
        return [(file.name, self.path_of(file)) for file in await self.list_files(owner, conversation_id)]

    def for_chat(self, owner: str, conversation_id: str) -> ChatFiles:
        """The chat's files as a tool call gets them (tools.base.ToolContext.files)."""
        return ChatFiles(self, owner, conversation_id)

    # -- removing ----------------------------------------------------------------------------------------

    async def delete(self, owner: str, file_id: str) -> bool:
        file = await self.store.get_file(owner, file_id)
        if file is None:
            return False
        await self.store.delete_file(owner, file_id)
        await asyncio.to_thread(self._remove_disk, file)
        return True

    def _remove_disk(self, file: StoredFile) -> None:
        undo(file.meta, file.id, self.layout.tables_db(file.owner, file.conversation_id),
             self.layout.index_db(file.owner, file.conversation_id))
        self.path_of(file).unlink(missing_ok=True)

    async def delete_conversation_files(self, owner: str, conversation_id: str) -> int:
        """Remove every file of a chat (rows and disk): call it when the chat is deleted for good."""
        removed = await self.store.delete_files(owner, conversation_id)
        await asyncio.to_thread(self.layout.remove_chat, owner, conversation_id)
        return removed

    async def sweep(self, *, grace_s: float = SWEEP_GRACE_S) -> int:
        """Remove the folders of chats that have no file rows any more (after the store's purge or delete_all,
        which remove the rows with their conversations); returns how many folders went."""
        keep = await self.store.conversations_with_files()
        return await asyncio.to_thread(self._sweep, keep, grace_s)

    def _sweep(self, keep: set[str], grace_s: float) -> int:
        removed, now = 0, time.time()
        for folder in self.layout.chat_dirs():
            if folder.name not in keep and now - folder.stat().st_mtime > grace_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


@dataclass(frozen=True)
class ChatFiles:
    """One chat's files for its tool calls: what the python tool shows in data/, the sql tool's tables.db."""

    uploads: Uploads
    owner: str
    conversation_id: str

    @property
    def workspace(self) -> Path:
        return self.uploads.layout.runs_dir

    async def sandbox_files(self) -> list[tuple[str, Path]]:
        return await self.uploads.sandbox_files(self.owner, self.conversation_id)

    def table_database(self) -> Path | None:
        return self.uploads.table_database(self.owner, self.conversation_id)
