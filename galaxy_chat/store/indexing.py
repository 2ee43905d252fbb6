"""Keeping search_docs in step: a finished message's text and a conversation's title go in, a deleted
conversation's rows go out at once (and come back on undo). The FTS5 table or tsvector column follows."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from galaxy_chat.store.schema import OWNER_BITS, conversations, messages, parts, search_docs, search_owners
from galaxy_chat.store.threads import decode_part
from galaxy_chat.store.types import TEXT, message_text

PREVIEW_CHARS = 160
MARKERS = re.compile("[\u0002\u0003]")  # the snippet markers: never inside indexed text, so never forged


async def owner_range(conn: AsyncConnection, owner: str, create: bool = False) -> tuple[int, int] | None:
    """SQLite: the ids the owner's search rows take (None: the owner has none yet)."""
    slot = (await conn.execute(select(search_owners.c.slot).where(search_owners.c.owner == owner))).scalar()
    if slot is None:
        if not create:
            return None
        slot = (await conn.execute(select(func.coalesce(func.max(search_owners.c.slot), 0) + 1))).scalar_one()
        await conn.execute(insert(search_owners).values(owner=owner, slot=slot))
    low = slot << OWNER_BITS
    return low, low + (1 << OWNER_BITS) - 1


async def new_doc_id(conn: AsyncConnection, owner: str) -> int | None:
    """SQLite: the next id in the owner's range; PostgreSQL: None (its sequence numbers the rows)."""
    if conn.dialect.name != "sqlite":
        return None
    low, high = await owner_range(conn, owner, create=True) or (0, 0)
    last = (await conn.execute(select(func.max(search_docs.c.id)).where(search_docs.c.id.between(low, high))))
    value = last.scalar()
    return low if value is None else value + 1


def doc_values(doc_id: int | None, **values: object) -> dict[str, object]:
    return values if doc_id is None else {"id": doc_id, **values}


def clean(text: str) -> str:
    return MARKERS.sub(" ", text)


def preview_of(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1].rstrip() + "…"


async def message_text_of(conn: AsyncConnection, message_id: str) -> str:
    rows = await conn.execute(
        select(parts.c.data).where(parts.c.message_id == message_id, parts.c.type == TEXT).order_by(parts.c.seq))
    return message_text(decode_part(data) for (data,) in rows)


async def is_indexed(conn: AsyncConnection, conversation_id: str, message_id: str) -> bool:
    found = await conn.execute(select(search_docs.c.id).where(
        search_docs.c.conversation_id == conversation_id, search_docs.c.message_id == message_id).limit(1))
    return found.first() is not None


async def index_message(conn: AsyncConnection, owner: str, conversation_id: str, message_id: str,
                        text: str | None = None) -> None:
    """Index a message's text (read from its parts unless given) and make it the conversation's preview."""
    if text is None:
        text = await message_text_of(conn, message_id)
    if not text.strip() or await is_indexed(conn, conversation_id, message_id):
        return
    await conn.execute(insert(search_docs).values(doc_values(
        await new_doc_id(conn, owner), conversation_id=conversation_id, message_id=message_id, owner=owner,
        body=clean(text))))
    await conn.execute(update(conversations).where(conversations.c.id == conversation_id)
                       .values(preview=preview_of(text)))


async def index_title(conn: AsyncConnection, owner: str, conversation_id: str, title: str) -> None:
    await conn.execute(delete(search_docs).where(
        search_docs.c.conversation_id == conversation_id, search_docs.c.message_id.is_(None)))
    if title.strip():
        await conn.execute(insert(search_docs).values(doc_values(
            await new_doc_id(conn, owner), conversation_id=conversation_id, message_id=None, owner=owner,
            title=clean(title))))


async def unindex(conn: AsyncConnection, conversation_ids: Sequence[str]) -> None:
    if conversation_ids:
        await conn.execute(delete(search_docs).where(search_docs.c.conversation_id.in_(conversation_ids)))


async def reindex(conn: AsyncConnection, owner: str, conversation_id: str, title: str) -> None:
    """Put a restored conversation back in the index: its title and every message that has text."""
    await index_title(conn, owner, conversation_id, title)
    rows = await conn.execute(
        select(parts.c.message_id, parts.c.data)
        .join(messages, and_(messages.c.id == parts.c.message_id, messages.c.conversation_id == conversation_id))
        .where(parts.c.type == TEXT).order_by(messages.c.position, messages.c.version, parts.c.seq))
    texts: dict[str, list[str]] = {}
    for message_id, data in rows:
        texts.setdefault(message_id, []).append(message_text([decode_part(data)]))
    for message_id, pieces in texts.items():
        await index_message(conn, owner, conversation_id, message_id, "".join(pieces))
