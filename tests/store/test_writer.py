"""The background writer against real databases: order, latency, a kill -9 mid-reply, a database outage."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from galaxy_chat.store import MessageStatus, open_store, upgrade
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.store.writer import HistoryWriter
from galaxy_chat.testing.app_process import ROOT, subprocess_env
from galaxy_chat.testing.postgres import PostgresServer
from tests.engine_helpers import wait_for

ADA = "ada@example.com"
DONE = {"type": "done", "usage": {"input_tokens": 5, "output_tokens": 300}, "stopped": False}


async def test_a_streamed_reply_is_written_in_order(store: SqlHistoryStore, database_url: str,
                                                    data_dir: Path) -> None:
    writer = HistoryWriter(database_url, data_dir)
    writer.start()
    cid = writer.conversation_created(ADA, tools=["sql"])
    question = writer.user_message(ADA, cid, "Count the orders", model="m")
    reply = writer.reply_started(ADA, cid, model="m")
    reply.text("Let me ")
    reply.text("check.")
    reply.part({"type": "tool_call_started", "call_id": "c1", "name": "sql", "arguments": "{}"})
    reply.part({"type": "status", "text": "Still working - 5 s", "elapsed_s": 5.0})  # not kept
    reply.part({"type": "tool_call_finished", "call_id": "c1", "name": "sql", "text": "42", "is_error": False,
                "duration_s": 0.1, "widgets": [{"kind": "table", "rows": [[42]]}], "reduced_isolation": False})
    for piece in ("There are ", "42 ", "orders."):
        reply.text(piece)
    reply.finish(DONE)
    assert await writer.flush() and writer.healthy and writer.pending == 0
    view = await store.load_conversation(ADA, cid)
    assert [m.id for m in view.messages] == [question, reply.id] and view.meta.tools == ["sql"]
    answer = view.messages[1]
    assert answer.text == "Let me check.There are 42 orders." and answer.status == MessageStatus.DONE
    assert [p["type"] for p in answer.parts] == [
        "text_delta", "tool_call_started", "tool_call_finished", "text_delta", "done"]
    assert answer.parts[2]["widgets"] == [{"kind": "table", "rows": [[42]]}] and answer.parts[-1] == DONE
    assert [hit.message_id for hit in await store.search(ADA, "check")] == [reply.id]
    assert await writer.aclose()


async def test_streamed_text_reaches_the_database_within_a_second(store: SqlHistoryStore, database_url: str,
                                                                  data_dir: Path) -> None:
    writer = HistoryWriter(database_url, data_dir)
    writer.start()
    cid = writer.conversation_created(ADA)
    reply = writer.reply_started(ADA, cid, model="m")
    reply.text("first words ")
    handed_over = time.monotonic()

    async def stored_text() -> str:
        message = await store.load_message(ADA, reply.id)
        return message.text if message else ""

    while await stored_text() != "first words ":
        assert time.monotonic() - handed_over < 1.0, "the text took more than a second"
        await asyncio.sleep(0.05)
    assert (await store.load_message(ADA, reply.id)).status == MessageStatus.STREAMING
    reply.finish(DONE)
    assert await writer.aclose()


async def test_kill_9_mid_reply_keeps_the_text_up_to_a_second_before(store: SqlHistoryStore, database_url: str,
                                                                     data_dir: Path) -> None:
    child = subprocess.Popen([sys.executable, "-m", "tests.store.writer_child", database_url, str(data_dir)],
                             cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    ready = json.loads(await asyncio.to_thread(child.stdout.readline))
    sent: list[tuple[int, float]] = []
    while len(sent) < 150:  # about 1.5 s of streaming
        line = json.loads(await asyncio.to_thread(child.stdout.readline))
        sent.append((line["i"], line["t"]))
    os.kill(child.pid, signal.SIGKILL)
    killed_at = time.time()
    child.wait(10)
    await asyncio.sleep(1.1)  # the child's lease (1 s) lapses: nobody writes this reply any more
    view = await store.load_conversation(ADA, "killed-mid-reply-0001")
    assert view is not None and view.meta.title == "A long story"
    question, answer = view.messages
    assert question.text == "Tell me a long story" and answer.id == ready["ready"]
    assert answer.status == MessageStatus.INTERRUPTED
    expected = [f"p{i:05d} " for i, at in sent if at <= killed_at - 1.0]
    assert len(expected) > 20
    assert answer.text.startswith("".join(expected))
    assert "".join(f"p{i:05d} " for i in range(len(answer.text) // 7)) == answer.text  # whole pieces, in order


async def test_a_database_outage_loses_nothing(postgres: PostgresServer, data_dir: Path) -> None:
    if not postgres.running:
        postgres.start()
    postgres.reset()
    await upgrade(postgres.url, data_dir)
    health: list[bool] = []
    writer = HistoryWriter(postgres.url, data_dir, flush_s=0.2, retry_max_s=0.5, on_health_change=health.append)
    writer.start()
    cid = writer.conversation_created(ADA)
    writer.user_message(ADA, cid, "Write while the server restarts", model="m")
    reply = writer.reply_started(ADA, cid, model="m")
    reply.text("before ")
    assert await writer.flush()
    await asyncio.to_thread(postgres.stop)
    try:
        for i in range(20):
            reply.text(f"during{i} ")
            await asyncio.sleep(0.02)
        await wait_for(lambda: not writer.healthy, timeout=10)
        assert health == [False] and writer.pending > 0
        reply.text("after")
        reply.finish(DONE)
        second = writer.user_message(ADA, cid, "And this?", model="m")
        assert not await writer.flush(timeout=0.5)
    finally:
        await asyncio.to_thread(postgres.start)
    await wait_for(lambda: writer.healthy, timeout=15)
    assert await writer.flush(timeout=10) and health == [False, True] and writer.pending == 0
    store = await open_store(postgres.url, data_dir)
    view = await store.load_conversation(ADA, cid)
    await store.close()
    texts = [m.text for m in view.messages]
    assert texts[1] == "before " + "".join(f"during{i} " for i in range(20)) + "after"
    assert view.messages[1].status == MessageStatus.DONE and view.messages[2].id == second
    assert await writer.aclose()


async def test_rows_waiting_for_the_database_are_bounded_and_drops_are_logged(caplog) -> None:
    from galaxy_chat.store.errors import DatabaseUnavailable

    async def unreachable() -> SqlHistoryStore:
        raise DatabaseUnavailable("cannot reach the history database postgresql://galaxy@127.0.0.1:9/history")

    health: list[bool] = []
    writer = HistoryWriter(opener=unreachable, flush_s=0.05, retry_max_s=0.1, max_pending=5,
                           on_health_change=health.append)
    writer.start()
    cid = writer.conversation_created(ADA)
    for i in range(20):
        writer.user_message(ADA, cid, f"message {i}")
    await wait_for(lambda: not writer.healthy and writer.pending <= 5, timeout=5)
    await asyncio.sleep(0.2)  # the callback runs on this loop
    assert health == [False] and writer.pending == 5
    assert any("DROPPED" in record.getMessage() for record in caplog.records)
    assert any("keeping" in record.getMessage() for record in caplog.records)
    assert not await writer.aclose(timeout=0.3)


async def test_replies_streaming_together_are_all_written_and_a_deleted_chat_does_not_stop_the_others(
        store: SqlHistoryStore, database_url: str, data_dir: Path) -> None:
    writer = HistoryWriter(database_url, data_dir)
    writer.start()
    people = [f"p{i}@example.com" for i in range(30)]
    chats = [writer.conversation_created(person) for person in people]
    replies = [writer.reply_started(person, cid, model="m") for person, cid in zip(people, chats, strict=True)]
    for step in range(5):
        for i, reply in enumerate(replies):
            reply.text(f"r{i}s{step} ")
    assert await writer.flush()
    assert await store.delete_conversation(people[7], chats[7])  # while its reply streams
    for reply in replies:
        reply.text("end")
        reply.part({"type": "tool_call_started", "call_id": "c1", "name": "sql", "arguments": "{}"})
        reply.finish(DONE)
    assert await writer.flush() and writer.healthy and writer.pending == 0
    for i, (person, cid) in enumerate(zip(people, chats, strict=True)):
        view = await store.load_conversation(person, cid)
        if i == 7:
            assert view is None
            continue
        answer = view.messages[-1]
        assert answer.text == "".join(f"r{i}s{step} " for step in range(5)) + "end"
        assert answer.status == MessageStatus.DONE and answer.parts[-2]["type"] == "tool_call_started"
    assert await writer.aclose()
