"""A file is the owner's only, and goes (rows, tables, passages, bytes) when it or its chat is removed."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from galaxy_chat.files import FileRefused, Uploads
from galaxy_chat.store.sql_store import SqlHistoryStore
from tests.files.conftest import ADA, BOB


def on_disk(data_dir: Path) -> list[Path]:
    return sorted(path for path in (data_dir / "uploads").rglob("*") if path.is_file())


async def test_another_person_sees_nothing_of_a_file(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "t.csv", b"a,b\n1,2\n")
    assert await uploads.get(BOB, file.id) is None
    assert await uploads.list_files(BOB, chat) == []
    assert await uploads.tables_context(BOB, chat) == ""
    assert uploads.table_database(BOB, chat) is None
    assert not await uploads.delete(BOB, file.id)
    assert await uploads.get(ADA, file.id) == file


async def test_an_upload_to_another_persons_or_a_deleted_chat_is_refused(uploads: Uploads, chat: str,
                                                                         store: SqlHistoryStore,
                                                                         data_dir: Path) -> None:
    bobs = await store.create_conversation(BOB)
    for owner, conversation in ((ADA, bobs), (ADA, "no-such-chat")):
        with pytest.raises(FileRefused, match="no longer exists"):
            await uploads.accept(owner, conversation, "t.csv", b"a,b\n1,2\n")
    await store.delete_conversation(ADA, chat)
    with pytest.raises(FileRefused, match="no longer exists"):
        await uploads.accept(ADA, chat, "t.csv", b"a,b\n1,2\n")
    assert not (data_dir / "uploads").exists()


async def test_deleting_a_file_drops_its_table_and_passages(uploads: Uploads, chat: str) -> None:
    table = await uploads.accept(ADA, chat, "t.csv", b"a,b\n1,2\n")
    kept = await uploads.accept(ADA, chat, "k.csv", b"c,d\n3,4\n")
    note = await uploads.accept(ADA, chat, "n.md", b"# Keys\nThe server room key is at reception.\n")
    assert await uploads.retrieve(ADA, chat, "server room key", 3)
    assert await uploads.delete(ADA, table.id) and await uploads.delete(ADA, note.id)
    assert await uploads.retrieve(ADA, chat, "server room key", 3) == []
    context = await uploads.tables_context(ADA, chat)
    assert "k (1 rows" in context and "t (1 rows" not in context
    assert not uploads.path_of(table).exists() and uploads.path_of(kept).exists()
    assert [file.id for file in await uploads.list_files(ADA, chat)] == [kept.id]


async def test_a_chat_deleted_for_good_takes_its_files(uploads: Uploads, chat: str, data_dir: Path) -> None:
    await uploads.accept(ADA, chat, "t.csv", b"a,b\n1,2\n")
    await uploads.accept(ADA, chat, "n.txt", b"notes")
    assert await uploads.delete_conversation_files(ADA, chat) == 2
    assert on_disk(data_dir) == [] and await uploads.list_files(ADA, chat) == []


async def test_sweep_after_purge_removes_the_purged_chats_folders(uploads: Uploads, store: SqlHistoryStore,
                                                                  data_dir: Path) -> None:
    now = datetime.now(UTC)
    old = await store.create_conversation(ADA, now=now - timedelta(days=40))
    fresh = await store.create_conversation(ADA, now=now)
    gone = await uploads.accept(ADA, old, "old.csv", b"a,b\n1,2\n")
    kept = await uploads.accept(ADA, fresh, "new.csv", b"a,b\n1,2\n")
    assert await store.purge(30, now=now) == 1
    assert await uploads.sweep() == 0  # too young: it might be an upload still being accepted
    folder = uploads.path_of(gone).parent
    os.utime(folder, (time.time() - 7200, time.time() - 7200))
    assert await uploads.sweep() == 1
    assert not folder.exists() and uploads.path_of(kept).exists()
