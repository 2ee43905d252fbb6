"""The chat engine against the real OpenAI provider and a scripted HTTP server: replies, tools, the loop."""

from __future__ import annotations

import asyncio
import json

from galaxy_chat.llm.messages import Message
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import Done, Error, TextDelta, ToolCallFinished, ToolCallStarted, Usage
from galaxy_chat.vocabulary.tool_calls import ToolCall
from galaxy_chat.vocabulary.widgets import Markdown
from tests.engine_helpers import FunctionTools
from tools.base import ToolResult


async def test_plain_reply_streams_text_then_done(make) -> None:
    rig = make()
    rig.server.script(Reply(200, openai_text("Hel", "lo", " there")))
    chat = rig.conversation()
    events = await rig.collect(chat, "Hi!")
    assert events[:3] == [TextDelta("Hel"), TextDelta("lo"), TextDelta(" there")]
    done = events[-1]
    assert isinstance(done, Done) and len(events) == 4
    assert (done.usage, done.rounds, done.stopped) == (Usage(12, 5), 1, False)
    assert done.first_token_s is not None and 0 <= done.first_token_s <= done.duration_s
    assert chat.messages == [Message("user", "Hi!"), Message("assistant", "Hello there")]
    assert rig.sent_messages() == [
        {"role": "system", "content": "You are the test assistant."}, {"role": "user", "content": "Hi!"}]


async def test_every_call_sends_the_whole_history_after_the_system_prompt(make) -> None:
    rig = make()
    rig.server.script(Reply(200, openai_text("One.")), Reply(200, openai_text("Two.")))
    chat = rig.conversation()
    await rig.collect(chat, "First?")
    await rig.collect(chat, "Second?")
    assert rig.sent_messages() == [
        {"role": "system", "content": "You are the test assistant."},
        {"role": "user", "content": "First?"}, {"role": "assistant", "content": "One."},
        {"role": "user", "content": "Second?"}]


async def test_system_prompt_override_wins_over_the_file(make) -> None:
    rig = make(system_prompt_override="Answer in French.")
    rig.server.script(Reply(200, openai_text("Oui.")))
    await rig.collect(rig.conversation(), "Yes?")
    assert rig.sent_messages()[0] == {"role": "system", "content": "Answer in French."}


async def test_session_ids_are_unguessable_and_distinct(make) -> None:
    rig = make()
    ids = {rig.conversation().session_id for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= 20 for i in ids)


async def test_one_tool_round_trip(make) -> None:
    async def sql_query(sql: str) -> str:
        return f"1 row for {sql}"

    tools = FunctionTools(sql_query=sql_query)
    rig = make(tools=tools)
    rig.server.script(
        Reply(200, openai_tool_calls(("call_1", "sql_query", ['{"sq', 'l": "SELECT 1"}']), text="Let me look.")),
        Reply(200, openai_text("There is ", "one row.")),
    )
    chat = rig.conversation()
    events = await rig.collect(chat, "How many rows?")
    assert events[0] == TextDelta("Let me look.")
    assert events[1] == ToolCallStarted("call_1", "sql_query", '{"sql": "SELECT 1"}')
    finished = events[2]
    assert isinstance(finished, ToolCallFinished)
    assert (finished.call_id, finished.text, finished.is_error) == ("call_1", "1 row for SELECT 1", False)
    assert finished.duration_s >= 0
    assert events[3:5] == [TextDelta("There is "), TextDelta("one row.")]
    assert isinstance(events[-1], Done) and events[-1].rounds == 2
    assert tools.calls == [ToolCall("call_1", "sql_query", '{"sql": "SELECT 1"}')]
    assert rig.sent_messages(-1)[2:] == [
        {"role": "assistant", "content": "Let me look.", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "sql_query", "arguments": '{"sql": "SELECT 1"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "1 row for SELECT 1"}]
    assert rig.server.requests[0].json()["tools"][0]["function"]["name"] == "sql_query"
    assert chat.messages[-1] == Message("assistant", "There is one row.")


async def test_two_parallel_tool_calls_run_concurrently(make) -> None:
    barrier = asyncio.Barrier(2)  # passes only when both calls are running at the same time

    async def wait_both(name: str) -> str:
        await asyncio.wait_for(barrier.wait(), 2)
        await asyncio.sleep(0.05 if name == "slow" else 0)
        return f"{name} done"

    rig = make(tools=FunctionTools(lookup=wait_both))
    rig.server.script(
        Reply(200, openai_tool_calls(("call_a", "lookup", ['{"name": "slow"}']),
                                     ("call_b", "lookup", ['{"name": "fast"}']))),
        Reply(200, openai_text("Both done.")),
    )
    events = await rig.collect(rig.conversation(), "Look both up")
    started = [e.call_id for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert started == ["call_a", "call_b"]
    assert [e.call_id for e in finished] == ["call_b", "call_a"]  # in the order they finished
    assert not any(e.is_error for e in finished)
    tool_messages = [m for m in rig.sent_messages(-1) if m["role"] == "tool"]
    assert tool_messages == [  # in the model's order, whatever order they finished in
        {"role": "tool", "tool_call_id": "call_a", "content": "slow done"},
        {"role": "tool", "tool_call_id": "call_b", "content": "fast done"}]


async def test_a_failing_tool_becomes_an_error_result_the_model_sees(make) -> None:
    async def broken() -> str:
        raise RuntimeError("disk on fire")

    rig = make(tools=FunctionTools(broken=broken))
    rig.server.script(Reply(200, openai_tool_calls(("call_1", "broken", ["{}"]))), Reply(200, openai_text("Sorry.")))
    chat = rig.conversation()
    events = await rig.collect(chat, "Try it")
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.is_error and "failed unexpectedly" in finished.text and "disk on fire" not in finished.text
    assert rig.sent_messages(-1)[-1]["content"] == finished.text
    line = next(x for x in rig.log_lines(chat) if x["type"] == "tool_call_finished")
    assert "disk on fire" in line["traceback"] and "RuntimeError" in line["traceback"]


async def test_tool_widgets_and_isolation_flag_reach_the_event(make) -> None:
    async def plot() -> ToolResult:
        return ToolResult(text="plotted", widgets=[Markdown(text="a plot")], reduced_isolation=True)

    rig = make(tools=FunctionTools(plot=plot))
    rig.server.script(Reply(200, openai_tool_calls(("c1", "plot", ["{}"]))), Reply(200, openai_text("Here.")))
    events = await rig.collect(rig.conversation(), "Plot")
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert (finished.widgets, finished.reduced_isolation) == ([Markdown(text="a plot")], True)


async def test_max_tool_rounds_stops_with_a_clear_sentence(make) -> None:
    async def again() -> str:
        return "try again"

    tools = FunctionTools(again=again)
    rig = make(tools=tools, max_tool_rounds=3)
    rig.server.script(*(Reply(200, openai_tool_calls((f"c{i}", "again", ["{}"]))) for i in range(3)))
    chat = rig.conversation()
    events = await rig.collect(chat, "Loop forever")
    assert events[-2] == Error("Stopped after 3 tool rounds without a final answer.", kind="max_tool_rounds")
    assert isinstance(events[-1], Done) and events[-1].rounds == 3
    assert len(rig.server.requests) == 3 and len(tools.calls) == 2  # the third round's calls are not run
    # The history stays valid: every assistant tool call has its result.
    call_ids = [c.id for m in chat.messages for c in m.tool_calls]
    result_ids = [m.tool_call_id for m in chat.messages if m.role == "tool"]
    assert call_ids == result_ids == ["c0", "c1"]


async def test_default_limit_is_eight_rounds(make) -> None:
    async def again() -> str:
        return "more"

    rig = make(tools=FunctionTools(again=again))
    rig.server.script(*(Reply(200, openai_tool_calls((f"c{i}", "again", ["{}"]))) for i in range(8)))
    events = await rig.collect(rig.conversation(), "Loop")
    assert Error("Stopped after 8 tool rounds without a final answer.", kind="max_tool_rounds") in events
    assert len(rig.server.requests) == 8


async def test_long_history_is_trimmed_to_the_context_window(make) -> None:
    rig = make(model={"context_window": 400, "max_tokens": 100})
    chat = rig.conversation()
    for turn in range(6):
        rig.server.script(Reply(200, openai_text(f"Answer {turn} " + "x" * 150)))
        await rig.collect(chat, f"Question {turn} " + "y" * 150)
    sent = rig.sent_messages()
    assert sent[0]["role"] == "system" and sent[1]["role"] == "user"
    assert sent[-1]["content"].startswith("Question 5")
    assert not any(m["content"].startswith("Question 0") for m in sent)
    assert len(chat.messages) == 12  # the conversation itself keeps everything
    call = [x for x in rig.log_lines(chat) if x["type"] == "model_call"][-1]
    assert call["dropped"] > 0 and call["dropped"] + len(sent) == 1 + 11  # system + the history at that call


async def test_the_log_records_the_whole_exchange(make) -> None:
    async def sql_query(sql: str) -> str:
        return "42"

    rig = make(tools=FunctionTools(sql_query=sql_query))
    rig.server.script(Reply(200, openai_tool_calls(("call_1", "sql_query", ['{"sql": "x"}']))),
                      Reply(200, openai_text("It is ", "42.")))
    chat = rig.conversation()
    await rig.collect(chat, "What is it?")
    rig.engine.end_conversation(chat)
    lines = rig.log_lines(chat)
    types = [line["type"] for line in lines]
    assert types == ["session_start", "user", "model_call", "model_reply", "tool_call_started", "tool_call_finished",
                     "model_call", "text", "model_reply", "done", "session_end"]
    assert lines[1] == {**lines[1], "text": "What is it?", "model": "Test openai"}
    assert "".join(line["text"] for line in lines if line["type"] == "text") == "It is 42."
    replies = [line for line in lines if line["type"] == "model_reply"]
    assert [reply["text"] for reply in replies] == ["", "It is 42."]  # each reply whole, on one line
    assert next(x for x in lines if x["type"] == "model_call")["tools"] == ["sql_query"]
    assert json.dumps(lines).count("sk-") == 0
