"""Importing session logs written by the app itself (the real engine on a scripted model server, and the
SessionLogs writer) into real SQLite and PostgreSQL stores."""

from __future__ import annotations

from pathlib import Path

from galaxy_chat.llm.messages import Usage
from galaxy_chat.store import MessageStatus
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import Done, ToolCallFinished, ToolCallStarted
from tests.engine_helpers import MODEL, FunctionTools

ADA = "ada@example.com"


async def revenue(**_: object) -> str:
    return "revenue: 1200"


async def test_logs_become_conversations_once(store: SqlHistoryStore, make, tmp_path: Path) -> None:
    rig = make(tools=FunctionTools(revenue=revenue))
    rig.server.script(Reply(200, openai_tool_calls(("c1", "revenue", ["{}"]))),
                      Reply(200, openai_text("Revenue was ", "1200 euros.")),
                      Reply(200, openai_text("You are ", "welcome.")))
    chat = rig.conversation(ADA)
    await rig.collect(chat, "What was the revenue?")
    await rig.collect(chat, "Thanks!")
    rig.engine.end_conversation(chat)

    cut = rig.logs.open("interrupted-session-0001")  # the process died while the reply streamed
    cut.write("session_start", user=ADA, system_prompt="You help.")
    cut.write("session_settings", model=MODEL, tools=["sql"], data_sources=["handbook"])
    cut.write("user", text="Tell me a story", model=MODEL)
    cut.write("retrieval", sources=["handbook"], passages=[{"source_id": "handbook", "title": "Tales",
                                                            "location": "p. 3", "score": 0.8}])
    cut.text("Once upon")
    cut.text(" a time")
    cut.flush_text()

    direct = rig.logs.open("command-session-0001")  # a /command: run without a model, logged by the session
    direct.write("session_start", user=ADA, system_prompt="You help.")
    direct.write("command", text="/calc 6*7")
    direct.event(ToolCallStarted("k1", "calc", '{"expression": "6*7"}'))
    direct.event(ToolCallFinished("k1", "calc", "42", False, 0.01))
    direct.event(Done(Usage(), 0.02, None, 0))
    rig.logs.open("nobody-said-anything").write("session_start", user=ADA, system_prompt="")
    assert rig.logs.flush()
    log_dir = rig.settings.log_dir
    with (log_dir / "interrupted-session-0001.jsonl").open("a") as file:
        file.write('{"ts": "2025-01-01T00:00:00Z", "type": "te')  # the line being written at the kill
    (log_dir / "not a session id.jsonl").write_text("{}\n")

    report = await store.import_session_logs(log_dir)
    assert sorted(report.imported) == sorted([chat.session_id, "interrupted-session-0001", "command-session-0001"])
    assert report.skipped == ["nobody-said-anything"] and list(report.failed) == ["not a session id.jsonl"]
    again = await store.import_session_logs(log_dir)
    assert again.imported == [] and len(again.skipped) == 4

    view = await store.load_conversation(ADA, chat.session_id)
    assert view is not None and view.meta.owner == ADA and view.meta.models == [MODEL]
    assert view.meta.title == "What was the revenue?"
    assert [(m.role, m.text) for m in view.messages] == [
        ("user", "What was the revenue?"), ("assistant", "Revenue was 1200 euros."),
        ("user", "Thanks!"), ("assistant", "You are welcome.")]
    first = view.messages[1]
    assert [p["type"] for p in first.parts] == ["tool_call_started", "tool_call_finished", "text_delta", "done"]
    assert first.parts[1]["text"] == "revenue: 1200" and "traceback" not in first.parts[1]
    assert first.parts[-1]["usage"] == {"input_tokens": 12, "output_tokens": 5} and first.model == MODEL
    assert all(m.status == MessageStatus.DONE for m in view.messages)
    assert view.meta.created_at <= view.messages[0].created_at <= view.messages[3].created_at <= view.meta.updated_at

    story = await store.load_conversation(ADA, "interrupted-session-0001")
    assert (story.meta.tools, story.meta.data_sources) == (["sql"], ["handbook"])
    reply = story.messages[1]
    assert reply.text == "Once upon a time" and reply.status == MessageStatus.INTERRUPTED
    assert reply.parts[0] == {"type": "sources", "passages": [{"source_id": "handbook", "title": "Tales",
                                                               "location": "p. 3", "score": 0.8}]}
    calc = await store.load_conversation(ADA, "command-session-0001")
    assert [m.text for m in calc.messages] == ["/calc 6*7", ""]
    assert calc.messages[1].parts[1]["text"] == "42" and calc.messages[1].status == MessageStatus.DONE

    hits = await store.search(ADA, "euros")
    assert [(hit.conversation_id, hit.message_id) for hit in hits] == [(chat.session_id, first.id)]
    assert [hit.conversation_id for hit in await store.search(ADA, "upon")] == ["interrupted-session-0001"]
    listed = {item.id: item for item in (await store.list_conversations(ADA)).items}
    assert set(listed) == {chat.session_id, "interrupted-session-0001", "command-session-0001"}
    assert listed["interrupted-session-0001"].preview == "Once upon a time"
