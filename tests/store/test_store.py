"""The history store on real SQLite and PostgreSQL: listing, owners, versions, statuses, deletion, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from galaxy_chat.store import MessageStatus, NotFound
from galaxy_chat.store.schema import conversations, messages, parts
from galaxy_chat.store.sql_store import SqlHistoryStore

ADA, BOB = "ada@example.com", "bob@example.com"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def chat(store: SqlHistoryStore, owner: str = ADA, question: str = "Hello?", answer: str = "Hi.",
               now: datetime = T0) -> tuple[str, str, str]:
    cid = await store.create_conversation(owner, models=["m"], tools=["sql"], data_sources=["docs"], now=now)
    user = await store.append_message(owner, cid, "user", model="m", text=question, now=now)
    reply = await store.append_message(owner, cid, "assistant", model="m", lease_s=30, now=now)
    await store.append_parts(owner, reply, [{"type": "text_delta", "text": answer}], now=now)
    await store.finish_message(owner, reply, {"type": "done", "usage": {"output_tokens": 3}, "stopped": False},
                               now=now)
    return cid, user, reply


async def count(store: SqlHistoryStore, table, **where) -> int:
    async with store.engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return (await conn.execute(query)).scalar_one()


async def test_list_is_pinned_then_newest_and_cursors_walk_every_chat_once(store: SqlHistoryStore) -> None:
    ids = []
    for i in range(23):  # three share one updated_at: the id breaks the tie, so none is lost or doubled
        ids.append(await store.create_conversation(ADA, title=f"chat {i}", now=T0 + timedelta(minutes=min(i, 20))))
    await store.set_pinned(ADA, ids[3], True)
    await store.set_pinned(ADA, ids[7], True)
    await store.create_conversation(BOB, title="not ada's", now=T0 + timedelta(days=1))
    seen, cursor, pages = [], None, 0
    while True:
        page = await store.list_conversations(ADA, limit=5, cursor=cursor)
        seen += page.items
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 5 and len(seen) == 23 == len({item.id for item in seen})
    assert [item.id for item in seen[:2]] == [ids[7], ids[3]] and all(item.pinned for item in seen[:2])
    rest = seen[2:]
    assert all(not item.pinned for item in rest)
    keys = [(item.updated_at, item.id) for item in rest]
    assert keys == sorted(keys, reverse=True)
    assert "not ada's" not in {item.title for item in seen}


async def test_list_items_carry_title_and_a_short_preview(store: SqlHistoryStore) -> None:
    await chat(store, question="How do I read a CSV file?", answer="Use pandas.read_csv. " * 30)
    [item] = (await store.list_conversations(ADA)).items
    assert item.title == "How do I read a CSV file?"  # the first message names an untitled chat
    assert item.preview.startswith("Use pandas.read_csv.") and len(item.preview) <= 160
    with pytest.raises(ValueError):
        await store.list_conversations(ADA, cursor="not-a-cursor")


async def test_another_owner_is_treated_exactly_like_a_missing_id(store: SqlHistoryStore) -> None:
    cid, _, reply = await chat(store)
    for target, message in ((cid, reply), ("no-such-conversation", "no-such-message")):
        assert await store.get_conversation(BOB, target) is None
        assert await store.load_conversation(BOB, target) is None
        assert await store.load_message(BOB, message) is None
        assert await store.set_title(BOB, target, "mine now") is False
        assert await store.set_pinned(BOB, target, True) is False
        assert await store.delete_conversation(BOB, target) is False
        assert await store.restore_conversation(BOB, target) is False
        with pytest.raises(NotFound):
            await store.append_message(BOB, target, "user", text="sneaky")
        with pytest.raises(NotFound):
            await store.append_parts(BOB, message, [{"type": "text_delta", "text": "x"}])
        with pytest.raises(NotFound):
            await store.finish_message(BOB, message, {"type": "done"})
    assert await store.delete_all(BOB) == 0
    view = await store.load_conversation(ADA, cid)
    assert view is not None and view.meta.title == "Hello?" and not view.meta.pinned
    assert [m.text for m in view.messages] == ["Hello?", "Hi."]


async def test_metadata_is_kept(store: SqlHistoryStore) -> None:
    cid, _, _ = await chat(store)
    reply = await store.append_message(ADA, cid, "assistant", model="other-model")
    meta = await store.get_conversation(ADA, cid)
    assert meta is not None and meta.owner == ADA
    assert (meta.models, meta.tools, meta.data_sources) == (["m", "other-model"], ["sql"], ["docs"])
    assert meta.created_at == T0 and meta.updated_at > T0 and meta.deleted_at is None
    assert len(cid) >= 20 and reply


async def test_regenerate_and_edit_keep_earlier_versions(store: SqlHistoryStore) -> None:
    cid, u1, r1 = await chat(store, question="Name a colour", answer="Red.")
    r2 = await store.append_message(ADA, cid, "assistant", model="m", replaces=r1)  # regenerate
    await store.append_parts(ADA, r2, [{"type": "text_delta", "text": "Blue."}])
    await store.finish_message(ADA, r2, {"type": "done", "stopped": False})
    view = await store.load_conversation(ADA, cid)
    assert [m.text for m in view.messages] == ["Name a colour", "Blue."]
    assert view.messages[1].versions == (r1, r2) and view.messages[1].version == 2
    older = await store.load_conversation(ADA, cid, chosen=[r1])
    assert [m.text for m in older.messages] == ["Name a colour", "Red."]
    assert (await store.load_message(ADA, r1)).text == "Red."

    u2 = await store.append_message(ADA, cid, "user", text="Name a fruit", replaces=u1)  # edit
    r3 = await store.append_message(ADA, cid, "assistant")  # follows the current thread: the edit
    await store.append_parts(ADA, r3, [{"type": "text_delta", "text": "Apple."}])
    view = await store.load_conversation(ADA, cid)
    assert [m.id for m in view.messages] == [u2, r3]
    assert view.messages[0].versions == (u1, u2) and view.messages[1].versions == (r3,)
    assert [m.position for m in view.messages] == [0, 1]
    back = await store.load_conversation(ADA, cid, chosen=[u1])  # the first question brings its own replies
    assert [m.text for m in back.messages] == ["Name a colour", "Blue."]
    follow_up = await store.append_message(ADA, cid, "user", text="Why?", after=r1)
    assert [m.id for m in (await store.load_conversation(ADA, cid, chosen=[follow_up])).messages] == [
        u1, r1, follow_up]
    assert await count(store, messages, conversation_id=cid) == 6


async def test_status_is_derived_from_the_parts_and_the_lease(store: SqlHistoryStore) -> None:
    cid = await store.create_conversation(ADA, now=T0)

    async def reply(*records: dict, lease_s: float | None = 30, terminal: dict | None = None) -> str:
        await store.append_message(ADA, cid, "user", text="go", now=T0)
        message_id = await store.append_message(ADA, cid, "assistant", lease_s=lease_s, now=T0)
        await store.append_parts(ADA, message_id, [{"type": "text_delta", "text": "Some"}, *records], now=T0)
        if terminal is not None:
            await store.finish_message(ADA, message_id, terminal, now=T0)
        return message_id

    done = await reply(terminal={"type": "done", "stopped": False})
    stopped = await reply(terminal={"type": "done", "stopped": True})
    failed = await reply({"type": "error", "message": "The model failed.", "kind": "server"},
                         terminal={"type": "done", "stopped": False})
    failed_alone = await reply(terminal={"type": "error", "message": "Timeout.", "kind": "timeout"})
    unleased = await reply(lease_s=None)
    streaming = await reply()
    now = T0 + timedelta(seconds=5)
    statuses = {m.id: m.status for m in (await store.load_conversation(ADA, cid, chosen=[streaming], now=now))
                .messages}
    assert statuses[done] == MessageStatus.DONE
    assert statuses[stopped] == MessageStatus.STOPPED
    assert statuses[failed] == MessageStatus.ERROR
    assert statuses[failed_alone] == MessageStatus.ERROR
    assert statuses[unleased] == MessageStatus.INTERRUPTED  # nobody holds it: it will never finish
    assert statuses[streaming] == MessageStatus.STREAMING
    later = T0 + timedelta(seconds=31)  # the lease lapsed without being renewed: the writer is gone
    assert (await store.load_message(ADA, streaming, now=later)).status == MessageStatus.INTERRUPTED
    assert (await store.load_message(ADA, streaming, now=now)).text == "Some"
    with pytest.raises(ValueError):
        await store.finish_message(ADA, streaming, {"type": "text_delta", "text": "not an end"})


async def test_a_turn_appends_rows_and_rewrites_none(store: SqlHistoryStore) -> None:
    cid, _, reply = await chat(store)
    async with store.engine.connect() as conn:
        before = (await conn.execute(select(parts).order_by(parts.c.message_id, parts.c.seq))).all()
    await store.append_message(ADA, cid, "user", text="More?")
    later = await store.append_message(ADA, cid, "assistant", lease_s=30)
    for piece in ("a", "b", "c"):
        await store.append_parts(ADA, later, [{"type": "text_delta", "text": piece}])
    async with store.engine.connect() as conn:
        after = (await conn.execute(select(parts).order_by(parts.c.message_id, parts.c.seq))).all()
    assert after[: len(before)] == before and len(after) == len(before) + 4
    assert (await store.load_message(ADA, later)).text == "abc"
    await store.append_parts(ADA, later, [{"type": "text_delta", "text": "d"}], first_seq=0)  # a retried write
    assert (await store.load_message(ADA, later)).text == "abc"
    assert (await store.load_message(ADA, reply)).parts[-1]["usage"] == {"output_tokens": 3}


async def test_soft_delete_hides_and_undo_restores(store: SqlHistoryStore) -> None:
    cid, _, _ = await chat(store)
    assert await store.delete_conversation(ADA, cid)
    assert await store.get_conversation(ADA, cid) is None and await store.load_conversation(ADA, cid) is None
    assert (await store.list_conversations(ADA)).items == []
    with pytest.raises(NotFound):
        await store.append_message(ADA, cid, "user", text="still there?")
    assert await store.delete_conversation(ADA, cid) is False
    assert await store.restore_conversation(ADA, cid)
    assert [item.id for item in (await store.list_conversations(ADA)).items] == [cid]


async def test_purge_removes_deleted_and_expired_chats_for_good(store: SqlHistoryStore) -> None:
    deleted, _, _ = await chat(store, now=T0)
    old, _, _ = await chat(store, now=T0 - timedelta(days=40))
    recent, _, _ = await chat(store, now=T0 - timedelta(days=2))
    just_deleted, _, _ = await chat(store, now=T0)
    await store.delete_conversation(ADA, deleted, now=T0 - timedelta(hours=1))
    await store.delete_conversation(ADA, just_deleted, now=T0 - timedelta(seconds=10))  # still undoable
    assert await store.purge(None, now=T0) == 1
    assert await count(store, conversations, id=deleted) == 0
    assert await count(store, messages, conversation_id=deleted) == 0
    assert await store.purge(30, now=T0) == 1
    remaining = {item.id for item in (await store.list_conversations(ADA)).items}
    assert remaining == {recent} and old not in remaining
    assert await store.restore_conversation(ADA, just_deleted)
    assert await store.purge(30, now=T0 + timedelta(days=31)) == 2


async def test_delete_all_takes_only_the_owners_chats(store: SqlHistoryStore) -> None:
    for _ in range(3):
        await chat(store, owner=ADA)
    bobs, _, _ = await chat(store, owner=BOB)
    assert await store.delete_all(ADA) == 3
    assert (await store.list_conversations(ADA)).items == []
    assert await count(store, conversations) == 1 and await count(store, parts) == 3  # bob: question, answer, done
    assert (await store.load_conversation(BOB, bobs)) is not None
