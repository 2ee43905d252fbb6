"""The files table on real SQLite and PostgreSQL: rows scoped by owner, gone with their conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from galaxy_chat.store import FileRecord, NotFound
from galaxy_chat.store.sql_store import SqlHistoryStore

ADA, BOB = "ada@example.com", "bob@example.com"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def record(cid: str, file_id: str, owner: str = ADA, size: int = 100, **meta: object) -> FileRecord:
    return FileRecord(id=file_id, owner=owner, conversation_id=cid, name=f"{file_id}.csv", kind="table",
                      mime="text/csv", size=size, sha256="0" * 64, created_at=T0, meta=dict(meta))


async def test_files_are_listed_per_chat_and_only_for_their_owner(store: SqlHistoryStore) -> None:
    cid = await store.create_conversation(ADA, now=T0)
    other = await store.create_conversation(ADA, now=T0)
    await store.add_file(record(cid, "f1", rows=12840, columns=9))
    await store.add_file(record(cid, "f2", size=50))
    await store.add_file(record(other, "f3", size=7))
    listed = await store.list_files(ADA, cid)
    assert [f.id for f in listed] == ["f1", "f2"]
    assert listed[0].meta == {"rows": 12840, "columns": 9} and listed[0].created_at == T0
    assert await store.list_files(BOB, cid) == []
    assert await store.get_file(BOB, "f1") is None
    assert (await store.get_file(ADA, "f1")).name == "f1.csv"
    assert await store.file_usage(ADA) == 157 and await store.file_usage(BOB) == 0
    assert await store.attach_files(ADA, ["f1"], "m1") == 1
    assert (await store.get_file(ADA, "f1")).message_id == "m1"
    assert await store.attach_files(BOB, ["f2"], "m1") == 0
    assert not await store.delete_file(BOB, "f2")
    assert await store.delete_file(ADA, "f2")
    assert await store.conversations_with_files() == {cid, other}
    assert await store.delete_files(ADA, other) == 1
    assert await store.conversations_with_files() == {cid}


async def test_a_file_needs_a_conversation_of_its_owner(store: SqlHistoryStore) -> None:
    cid = await store.create_conversation(BOB, now=T0)
    with pytest.raises(NotFound):
        await store.add_file(record(cid, "f1"))
    with pytest.raises(NotFound):
        await store.add_file(record("no-such-chat", "f2"))


async def test_purge_and_delete_all_remove_the_rows(store: SqlHistoryStore) -> None:
    old = await store.create_conversation(ADA, now=T0 - timedelta(days=40))
    kept = await store.create_conversation(ADA, now=T0)
    await store.add_file(record(old, "f1"))
    await store.add_file(record(kept, "f2"))
    assert await store.purge(30, now=T0) == 1
    assert await store.conversations_with_files() == {kept}
    assert await store.delete_all(ADA) == 1
    assert await store.conversations_with_files() == set()
