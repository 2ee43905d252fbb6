"""Messages and their parts: appended, never rewritten, and read back as the thread a page shows.

Every function takes a connection inside the caller's transaction; owner checks join the conversation, so
another person's message is simply not found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from galaxy_chat.store.errors import NotFound
from galaxy_chat.store.indexing import index_message, index_title, is_indexed
from galaxy_chat.store.schema import conversations, messages, parts
from galaxy_chat.store.threads import MessageRow, children_of, decode_part, encode_part, status_of, text_part, tip
from galaxy_chat.store.types import TERMINAL, ConversationMeta, MessageStatus, Part, StoredMessage

TITLE_CHARS = 80


def insert_ignoring_duplicates(conn: AsyncConnection, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING: a write retried after a lost acknowledgement is not doubled."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


async def message_rows(conn: AsyncConnection, conversation_id: str) -> list[MessageRow]:
    result = await conn.execute(
        select(messages.c.id, messages.c.parent_id, messages.c.position, messages.c.version, messages.c.role,
               messages.c.model, messages.c.created_at)
        .where(messages.c.conversation_id == conversation_id).order_by(messages.c.position, messages.c.version))
    return [MessageRow(*row) for row in result]


async def owned_conversation(conn: AsyncConnection, owner: str, conversation_id: str) -> Any:
    row = (await conn.execute(select(conversations).where(
        conversations.c.id == conversation_id, conversations.c.owner == owner,
        conversations.c.deleted_at.is_(None)))).first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id}")
    return row


async def conversation_of_message(conn: AsyncConnection, owner: str, message_id: str) -> str:
    found = (await conn.execute(
        select(messages.c.conversation_id).join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(messages.c.id == message_id, conversations.c.owner == owner,
               conversations.c.deleted_at.is_(None)))).first()
    if found is None:
        raise NotFound(f"no message {message_id}")
    return found[0]


async def insert_conversation(conn: AsyncConnection, owner: str, conversation_id: str, *, title: str,
                              models: Sequence[str], tools: Sequence[str], data_sources: Sequence[str],
                              now: datetime) -> None:
    await conn.execute(insert(conversations).values(
        id=conversation_id, owner=owner, title=title, models=json.dumps(list(models)), tools=json.dumps(list(tools)),
        data_sources=json.dumps(list(data_sources)), created_at=now, updated_at=now, pinned=False))
    await index_title(conn, owner, conversation_id, title)


async def create_conversation(conn: AsyncConnection, owner: str, conversation_id: str, *, title: str,
                              models: Sequence[str], tools: Sequence[str], data_sources: Sequence[str],
                              now: datetime) -> None:
    existing = (await conn.execute(select(conversations.c.owner).where(
        conversations.c.id == conversation_id))).first()
    if existing is not None:
        if existing[0] != owner:
            raise ValueError("that conversation id is taken")
        return  # a retry of a write that had gone through
    await insert_conversation(conn, owner, conversation_id, title=title, models=models, tools=tools,
                              data_sources=data_sources, now=now)


async def append_message(conn: AsyncConnection, owner: str, conversation_id: str, role: str, *, model: str,
                         text: str | None, message_id: str, after: str | None, replaces: str | None,
                         lease_s: float | None, now: datetime) -> str:
    meta = await owned_conversation(conn, owner, conversation_id)
    if (await conn.execute(select(messages.c.id).where(messages.c.id == message_id))).first() is not None:
        return message_id  # a retry of a write that had gone through
    rows = await message_rows(conn, conversation_id)
    by_id = {row.id: row for row in rows}
    anchor = replaces or after
    if anchor is not None and anchor not in by_id:
        raise NotFound(f"no message {anchor}")
    if replaces is not None:
        parent, position = by_id[replaces].parent_id, by_id[replaces].position
    else:
        last = by_id[after] if after is not None else tip(rows)
        parent, position = (last.id, last.position + 1) if last else (None, 0)
    version = 1 + max((row.version for row in rows if row.parent_id == parent), default=0)
    await conn.execute(insert(messages).values(
        id=message_id, conversation_id=conversation_id, parent_id=parent, position=position, version=version,
        role=role, model=model, created_at=now))
    if parent is not None and by_id[parent].role == "assistant" and not await is_indexed(conn, conversation_id,
                                                                                         parent):
        await index_message(conn, owner, conversation_id, parent)  # an interrupted reply, continued after
    changes: dict[str, Any] = {"updated_at": now}
    models = json.loads(meta.models)
    if model and model not in models:
        changes["models"] = json.dumps([*models, model])
    if role == "assistant" and lease_s:
        changes |= {"writing_message": message_id, "writing_until": now + timedelta(seconds=lease_s)}
    if text is not None:
        await conn.execute(insert(parts).values(message_id=message_id, seq=0, type="text_delta",
                                                data=encode_part(text_part(text))))
        await index_message(conn, owner, conversation_id, message_id, text)
        if role == "user" and not meta.title:
            changes["title"] = title = " ".join(text.split())[:TITLE_CHARS]
            await index_title(conn, owner, conversation_id, title)
    await conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(**changes))
    return message_id


async def next_seq(conn: AsyncConnection, message_id: str) -> int:
    found = await conn.execute(select(func.max(parts.c.seq)).where(parts.c.message_id == message_id))
    last = found.scalar()
    return 0 if last is None else last + 1


async def append_parts(conn: AsyncConnection, owner: str, message_id: str, records: Sequence[Part], *,
                       first_seq: int | None, lease_s: float | None, now: datetime) -> None:
    changes: dict[str, Any] = {"updated_at": now}
    if lease_s:
        changes["writing_until"] = case((conversations.c.writing_message == message_id,
                                         now + timedelta(seconds=lease_s)), else_=conversations.c.writing_until)
    # One statement checks the owner and touches the conversation: this runs for every flush of a reply.
    owning = select(messages.c.conversation_id).where(messages.c.id == message_id).scalar_subquery()
    touched = await conn.execute(update(conversations).where(
        conversations.c.id == owning, conversations.c.owner == owner, conversations.c.deleted_at.is_(None))
        .values(**changes))
    if not touched.rowcount:
        raise NotFound(f"no message {message_id}")
    if not records:
        return
    seq = await next_seq(conn, message_id) if first_seq is None else first_seq
    await conn.execute(insert_ignoring_duplicates(conn, parts), [
        {"message_id": message_id, "seq": seq + i, "type": str(record.get("type", "")), "data": encode_part(record)}
        for i, record in enumerate(records)])


@dataclass
class PartsAppend:
    """One reply's parts for append_many (first_seq: the first part's sequence number)."""

    owner: str
    message_id: str
    records: Sequence[Part]
    first_seq: int
    lease_s: float


async def append_many(conn: AsyncConnection, appends: Sequence[PartsAppend], *, now: datetime) -> None:
    """append_parts for many replies in three statements, however many replies: what a flush of every reply
    streaming costs. Raises NotFound (and writes nothing, being in the caller's transaction) if any message is
    not its owner's or its chat was deleted; the caller then appends them one by one."""
    if not appends:
        return
    owned = select(messages.c.id).join(conversations, conversations.c.id == messages.c.conversation_id).where(
        tuple_(messages.c.id, conversations.c.owner).in_({(a.message_id, a.owner) for a in appends}),
        conversations.c.deleted_at.is_(None))
    found = set((await conn.execute(owned)).scalars())
    if missing := {a.message_id for a in appends} - found:
        raise NotFound(f"no message {sorted(missing)[0]}")
    mid = bindparam("mid", type_=messages.c.id.type)
    until = case((conversations.c.writing_message == mid, bindparam("until", type_=conversations.c.writing_until.type)),
                 else_=conversations.c.writing_until)
    owning = select(messages.c.conversation_id).where(messages.c.id == mid).scalar_subquery()
    await conn.execute(update(conversations).where(conversations.c.id == owning).values(
        updated_at=bindparam("now", type_=conversations.c.updated_at.type), writing_until=until),
        [{"mid": a.message_id, "now": now, "until": now + timedelta(seconds=a.lease_s)} for a in appends])
    rows = [{"message_id": a.message_id, "seq": a.first_seq + i, "type": str(record.get("type", "")),
             "data": encode_part(record)} for a in appends for i, record in enumerate(a.records)]
    if rows:
        await conn.execute(insert_ignoring_duplicates(conn, parts), rows)


async def finish_message(conn: AsyncConnection, owner: str, message_id: str, terminal: Part, *, seq: int | None,
                         now: datetime) -> None:
    if terminal.get("type") not in TERMINAL:
        raise ValueError(f"a terminal part has type done or error, not {terminal.get('type')!r}")
    conversation_id = await conversation_of_message(conn, owner, message_id)
    writing = conversations.c.writing_message == message_id
    await conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(
        updated_at=now, writing_message=case((writing, None), else_=conversations.c.writing_message),
        writing_until=case((writing, None), else_=conversations.c.writing_until)))
    seq = await next_seq(conn, message_id) if seq is None else seq
    result = await conn.execute(insert_ignoring_duplicates(conn, parts).values(
        message_id=message_id, seq=seq, type=str(terminal["type"]), data=encode_part(terminal)))
    if result.rowcount:
        await index_message(conn, owner, conversation_id, message_id)


async def parts_of(conn: AsyncConnection, conversation_id: str,
                   message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The parts of these messages of one conversation. A whole thread is most of the conversation, so one
    join over the conversation's messages beats a long IN (...) list; a single message is looked up alone."""
    found: dict[str, list[dict[str, Any]]] = {message_id: [] for message_id in message_ids}
    query = select(parts.c.message_id, parts.c.data).order_by(parts.c.message_id, parts.c.seq)
    if len(message_ids) == 1:
        query = query.where(parts.c.message_id == message_ids[0])
    else:
        query = query.join(messages, messages.c.id == parts.c.message_id).where(
            messages.c.conversation_id == conversation_id)
    for message_id, data in await conn.execute(query):
        if message_id in found:
            found[message_id].append(decode_part(data))
    return found


def stored(row: MessageRow, versions: tuple[str, ...], records: list[dict[str, Any]], meta: Any,
           now: datetime) -> StoredMessage:
    writing = meta.writing_message == row.id and meta.writing_until is not None and meta.writing_until > now
    status: MessageStatus = status_of(row.role, records, writing)
    return StoredMessage(
        id=row.id, conversation_id=meta.id, parent_id=row.parent_id, position=row.position, version=row.version,
        versions=versions, role=row.role, model=row.model, created_at=row.created_at, status=status, parts=records)


async def load_thread(conn: AsyncConnection, meta: Any, shown: Sequence[MessageRow], rows: Sequence[MessageRow],
                      now: datetime) -> list[StoredMessage]:
    records = await parts_of(conn, meta.id, [row.id for row in shown])
    siblings = {parent: tuple(r.id for r in group) for parent, group in children_of(rows).items()}
    return [stored(row, siblings[row.parent_id], records[row.id], meta, now) for row in shown]


def meta_of(row: Any) -> ConversationMeta:
    return ConversationMeta(
        id=row.id, owner=row.owner, title=row.title, models=json.loads(row.models), tools=json.loads(row.tools),
        data_sources=json.loads(row.data_sources), created_at=row.created_at, updated_at=row.updated_at,
        pinned=bool(row.pinned), deleted_at=row.deleted_at, preview=row.preview)
