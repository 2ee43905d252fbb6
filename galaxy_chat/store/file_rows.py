"""The `files` table's queries: a chat's uploaded files, scoped by owner like every other read and change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from galaxy_chat.store.errors import NotFound
from galaxy_chat.store.schema import conversations, files
from galaxy_chat.store.types import FileRecord


def record_of(row: Row[Any]) -> FileRecord:
    meta = json.loads(row.meta or "{}")
    return FileRecord(id=row.id, owner=row.owner, conversation_id=row.conversation_id, name=row.name, kind=row.kind,
                      mime=row.mime, size=int(row.size), sha256=row.sha256, created_at=row.created_at,
                      message_id=row.message_id, meta=meta if isinstance(meta, dict) else {})


async def add_file(conn: AsyncConnection, record: FileRecord) -> None:
    owned = (await conn.execute(select(conversations.c.id).where(
        conversations.c.id == record.conversation_id, conversations.c.owner == record.owner,
        conversations.c.deleted_at.is_(None)))).first()
    if owned is None:
        raise NotFound("no such conversation")
    await conn.execute(files.insert().values(
        id=record.id, owner=record.owner, conversation_id=record.conversation_id, message_id=record.message_id,
        name=record.name, kind=record.kind, mime=record.mime, size=record.size, sha256=record.sha256,
        created_at=record.created_at, meta=json.dumps(record.meta, separators=(",", ":"), default=str)))


async def list_files(conn: AsyncConnection, owner: str, conversation_id: str) -> list[FileRecord]:
    rows = await conn.execute(select(files).where(files.c.owner == owner, files.c.conversation_id == conversation_id)
                              .order_by(files.c.created_at, files.c.id))
    return [record_of(row) for row in rows]


async def get_file(conn: AsyncConnection, owner: str, file_id: str) -> FileRecord | None:
    row = (await conn.execute(select(files).where(files.c.id == file_id, files.c.owner == owner))).first()
    return record_of(row) if row is not None else None


async def attach_files(conn: AsyncConnection, owner: str, file_ids: Sequence[str], message_id: str) -> int:
    if not file_ids:
        return 0
    result = await conn.execute(update(files).where(files.c.owner == owner, files.c.id.in_(list(file_ids)))
                                .values(message_id=message_id))
    return result.rowcount


async def delete_file(conn: AsyncConnection, owner: str, file_id: str) -> bool:
    result = await conn.execute(delete(files).where(files.c.id == file_id, files.c.owner == owner))
    return result.rowcount > 0


async def delete_files(conn: AsyncConnection, owner: str, conversation_id: str) -> int:
    result = await conn.execute(delete(files).where(files.c.owner == owner,
                                                    files.c.conversation_id == conversation_id))
    return result.rowcount


async def file_usage(conn: AsyncConnection, owner: str) -> int:
    total = (await conn.execute(select(func.coalesce(func.sum(files.c.size), 0)).where(files.c.owner == owner))
             ).scalar_one()
    return int(total)


async def conversations_with_files(conn: AsyncConnection) -> set[str]:
    return set((await conn.execute(select(files.c.conversation_id).distinct())).scalars())
