"""`SqlHistoryStore`: the HistoryStore on SQLAlchemy's async Core, one class for SQLite and PostgreSQL.

What differs between the two is confined to the engine set-up (engine.py), the search queries (search.py)
and the migration; everything else is the same SQL. Each public method is one transaction.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from galaxy_chat.store import file_rows
from galaxy_chat.store import messages as msg
from galaxy_chat.store.engine import WRITE
from galaxy_chat.store.errors import NotFound
from galaxy_chat.store.importer import import_logs
from galaxy_chat.store.indexing import index_title, reindex, unindex
from galaxy_chat.store.schema import conversations
from galaxy_chat.store.search import best_matches, pieces
from galaxy_chat.store.threads import new_message_id, now_or, thread
from galaxy_chat.store.types import (
    ConversationMeta,
    ConversationView,
    FileRecord,
    ImportReport,
    ListItem,
    ListPage,
    Part,
    SearchHit,
    StoredMessage,
)
from galaxy_chat.store.usage import UsageReport, usage_report

MAX_PAGE = 100
PURGE_BATCH = 200
UNDO_S = 600.0  # a soft-deleted chat can be restored for this long before purge removes it


def new_conversation_id() -> str:
    return secrets.token_urlsafe(16)


def encode_cursor(item: ListItem) -> str:
    raw = json.dumps([int(item.pinned), item.updated_at.isoformat(), item.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[bool, datetime, str]:
    try:
        pinned, updated_at, conversation_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return bool(pinned), datetime.fromisoformat(updated_at), str(conversation_id)
    except (ValueError, TypeError):
        raise ValueError("not a cursor from list_conversations") from None


class SqlHistoryStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writes = engine.execution_options(**{WRITE: True})

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._writes.begin() as conn:
            yield conn

    async def close(self) -> None:
        await self.engine.dispose()

    async def create_conversation(
        self, owner: str, *, conversation_id: str | None = None, title: str = "", models: Sequence[str] = (),
        tools: Sequence[str] = (), data_sources: Sequence[str] = (), now: datetime | None = None,
    ) -> str:
        conversation_id = conversation_id or new_conversation_id()
        async with self.write() as conn:
            await msg.create_conversation(conn, owner, conversation_id, title=title, models=models, tools=tools,
                                          data_sources=data_sources, now=now_or(now))
        return conversation_id

    async def append_message(
        self, owner: str, conversation_id: str, role: str, *, model: str = "", text: str | None = None,
        message_id: str | None = None, after: str | None = None, replaces: str | None = None,
        lease_s: float | None = None, now: datetime | None = None,
    ) -> str:
        async with self.write() as conn:
            return await msg.append_message(
                conn, owner, conversation_id, role, model=model, text=text, message_id=message_id or new_message_id(),
                after=after, replaces=replaces, lease_s=lease_s, now=now_or(now))

    async def append_parts(
        self, owner: str, message_id: str, parts: Sequence[Part], *, first_seq: int | None = None,
        lease_s: float | None = None, now: datetime | None = None,
    ) -> None:
        async with self.write() as conn:
            await msg.append_parts(conn, owner, message_id, parts, first_seq=first_seq, lease_s=lease_s,
                                   now=now_or(now))

    async def finish_message(
        self, owner: str, message_id: str, terminal: Part, *, seq: int | None = None, now: datetime | None = None,
    ) -> None:
        async with self.write() as conn:
            await msg.finish_message(conn, owner, message_id, terminal, seq=seq, now=now_or(now))

    async def set_title(self, owner: str, conversation_id: str, title: str) -> bool:
        async with self.write() as conn:
            changed = await self._change(conn, owner, conversation_id, title=title)
            if changed:
                await index_title(conn, owner, conversation_id, title)
            return changed

    async def set_pinned(self, owner: str, conversation_id: str, pinned: bool) -> bool:
        async with self.write() as conn:
            return await self._change(conn, owner, conversation_id, pinned=pinned)

    async def delete_conversation(self, owner: str, conversation_id: str, *, now: datetime | None = None) -> bool:
        async with self.write() as conn:
            changed = await self._change(conn, owner, conversation_id, deleted_at=now_or(now))
            if changed:
                await unindex(conn, [conversation_id])
            return changed

    async def restore_conversation(self, owner: str, conversation_id: str) -> bool:
        async with self.write() as conn:
            result = await conn.execute(
                update(conversations).where(conversations.c.id == conversation_id, conversations.c.owner == owner,
                                            conversations.c.deleted_at.is_not(None))
                .values(deleted_at=None).returning(conversations.c.title))
            row = result.first()
            if row is not None:
                await reindex(conn, owner, conversation_id, row.title)
            return row is not None

    async def delete_all(self, owner: str) -> int:
        async with self.write() as conn:
            result = await conn.execute(delete(conversations).where(conversations.c.owner == owner))
            return result.rowcount

    async def _change(self, conn: AsyncConnection, owner: str, conversation_id: str, **values: object) -> bool:
        result = await conn.execute(update(conversations).where(
            conversations.c.id == conversation_id, conversations.c.owner == owner,
            conversations.c.deleted_at.is_(None)).values(**values))
        return result.rowcount > 0

    async def get_conversation(self, owner: str, conversation_id: str) -> ConversationMeta | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(conversations).where(
                conversations.c.id == conversation_id, conversations.c.owner == owner,
                conversations.c.deleted_at.is_(None)))).first()
            return msg.meta_of(row) if row is not None else None

    async def load_conversation(
        self, owner: str, conversation_id: str, *, chosen: Iterable[str] = (), now: datetime | None = None,
    ) -> ConversationView | None:
        async with self.engine.connect() as conn:
            try:
                meta = await msg.owned_conversation(conn, owner, conversation_id)
            except NotFound:
                return None
            rows = await msg.message_rows(conn, conversation_id)
            shown = thread(rows, chosen)
            loaded = await msg.load_thread(conn, meta, shown, rows, now_or(now))
            return ConversationView(msg.meta_of(meta), loaded)

    async def load_message(self, owner: str, message_id: str, *, now: datetime | None = None) -> StoredMessage | None:
        async with self.engine.connect() as conn:
            try:
                conversation_id = await msg.conversation_of_message(conn, owner, message_id)
            except NotFound:
                return None
            meta = await msg.owned_conversation(conn, owner, conversation_id)
            rows = await msg.message_rows(conn, conversation_id)
            row = next(row for row in rows if row.id == message_id)
            return (await msg.load_thread(conn, meta, [row], rows, now_or(now)))[0]

    async def list_conversations(self, owner: str, *, limit: int = 30, cursor: str | None = None) -> ListPage:
        limit = max(1, min(limit, MAX_PAGE))
        c = conversations.c
        query = (select(c.id, c.title, c.updated_at, c.pinned, c.preview)
                 .where(c.owner == owner, c.deleted_at.is_(None))
                 .order_by(c.pinned.desc(), c.updated_at.desc(), c.id.desc()).limit(limit + 1))
        if cursor is not None:
            pinned, updated_at, last_id = decode_cursor(cursor)
            query = query.where(tuple_(c.pinned, c.updated_at, c.id) < tuple_(pinned, updated_at, last_id))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        items = [ListItem(row.id, row.title, row.updated_at, bool(row.pinned), row.preview) for row in rows[:limit]]
        return ListPage(items, encode_cursor(items[-1]) if len(rows) > limit else None)

    async def search(self, owner: str, query: str, *, limit: int = 20) -> list[SearchHit]:
        limit = max(1, min(limit, MAX_PAGE))
        async with self.engine.connect() as conn:
            best = await best_matches(conn, owner, query, limit)
            if not best:
                return []
            ids = [b[0] for b in best]
            metas = {row.id: row for row in await conn.execute(
                select(conversations.c.id, conversations.c.title, conversations.c.updated_at).where(
                    conversations.c.id.in_(ids), conversations.c.owner == owner,
                    conversations.c.deleted_at.is_(None)))}
        return [SearchHit(cid, mid, metas[cid].title, metas[cid].updated_at, pieces(marked), rank)
                for cid, mid, _doc, rank, marked in best if cid in metas]

    async def purge(self, retention_days: int | None, now: datetime | None = None, *, undo_s: float = UNDO_S) -> int:
        """Remove for good the chats soft-deleted more than `undo_s` ago, and (with `retention_days`) those
        not updated for that many days. Deleted in batches, so no transaction holds the database for long."""
        now, c = now_or(now), conversations.c
        condition = c.deleted_at <= now - timedelta(seconds=undo_s)
        if retention_days is not None:
            condition = condition | (c.updated_at < now - timedelta(days=retention_days))
        removed = 0
        while True:
            async with self.write() as conn:
                ids = (await conn.execute(select(c.id).where(condition).limit(PURGE_BATCH))).scalars().all()
                if not ids:
                    return removed
                await conn.execute(delete(conversations).where(c.id.in_(ids)))
                removed += len(ids)

    async def usage(self, since: datetime, until: datetime) -> UsageReport:
        """Replies, tokens, tool calls and errors of everyone between `since` and `until` (the admin page)."""
        async with self.engine.connect() as conn:
            return await usage_report(conn, since, until)

    async def import_session_logs(self, log_dir: Path) -> ImportReport:
        return await import_logs(self, log_dir)

    # -- files uploaded to chats (file_rows.py); their bytes on disk are galaxy_chat/files' business --------

    async def add_file(self, record: FileRecord) -> None:
        """Raises NotFound unless the conversation is the owner's and not deleted."""
        async with self.write() as conn:
            await file_rows.add_file(conn, record)

    async def list_files(self, owner: str, conversation_id: str) -> list[FileRecord]:
        async with self.engine.connect() as conn:
            return await file_rows.list_files(conn, owner, conversation_id)

    async def get_file(self, owner: str, file_id: str) -> FileRecord | None:
        async with self.engine.connect() as conn:
            return await file_rows.get_file(conn, owner, file_id)

    async def attach_files(self, owner: str, file_ids: Sequence[str], message_id: str) -> int:
        async with self.write() as conn:
            return await file_rows.attach_files(conn, owner, file_ids, message_id)

    async def delete_file(self, owner: str, file_id: str) -> bool:
        async with self.write() as conn:
            return await file_rows.delete_file(conn, owner, file_id)

    async def delete_files(self, owner: str, conversation_id: str) -> int:
        async with self.write() as conn:
            return await file_rows.delete_files(conn, owner, conversation_id)

    async def file_usage(self, owner: str) -> int:
        """Bytes of all the owner's uploaded files."""
        async with self.engine.connect() as conn:
            return await file_rows.file_usage(conn, owner)

    async def conversations_with_files(self) -> set[str]:
        """Ids of every conversation that still has a file row (what purge leaves; see Uploads.sweep)."""
        async with self.engine.connect() as conn:
            return await file_rows.conversations_with_files(conn)
