"""Keeping search_docs in step: a finished message's text and a conversation's title go in, a deleted
conversation's rows go out at once (and come back on undo). The FTS5 table or tsvector column follows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from galaxy_chat.store.schema import conversations, messages, parts, search_docs
from galaxy_chat.store.threads import decode_part
from galaxy_chat.store.types import TEXT, message_text

PREVIEW_CHARS = 160
MARKERS = re.compile("[\u0002\u0003]")  # the snippet markers: never inside indexed text, so never forged


def ownerkey(owner: str) -> str:
    """One token standing for the owner inside the full-text index (an email would be several tokens)."""
    return "u" + hashlib.sha256(owner.encode()).hexdigest()[:32]


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
    await conn.execute(insert(search_docs).values(
        conversation_id=conversation_id, message_id=message_id, owner=owner, ownerkey=ownerkey(owner),
        body=clean(text)))
    await conn.execute(update(conversations).where(conversations.c.id == conversation_id)
                       .values(preview=preview_of(text)))


async def index_title(conn: AsyncConnection, owner: str, conversation_id: str, title: str) -> None:
    await conn.execute(delete(search_docs).where(
        search_docs.c.conversation_id == conversation_id, search_docs.c.message_id.is_(None)))
    if title.strip():
        await conn.execute(insert(search_docs).values(
            conversation_id=conversation_id, message_id=None, owner=owner, ownerkey=ownerkey(owner),
            title=clean(title)))


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
