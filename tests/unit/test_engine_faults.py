"""The engine when things go wrong or take long: faults, stopping, cancelling, status updates, disabled calls."""

from __future__ import annotations

import asyncio

import pytest

from galaxy_chat.core.conversation import Interruption
from galaxy_chat.core.reply import CANCELLED_TOOL, GENERIC_ERROR
from galaxy_chat.llm.errors import SENTENCES, FaultKind
from galaxy_chat.llm.messages import Message
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_chunk, openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import Done, Error, Status, TextDelta, ToolCallFinished, ToolCallStarted
from tests.engine_helpers import FunctionTools, take, wait_for
from tests.provider_helpers import SECRET_KEY

# SSE comments keep the stream open without events; the server notices a closed client at its next write.
KEEP_ALIVE: list[bytes | float] = [b": keep-alive\n\n", 0.05] * 400


def stalled_after(*pieces: str) -> Reply:
    return Reply(200, [openai_chunk({"content": piece}) for piece in pieces] + KEEP_ALIVE)


async def test_aclose_mid_stream_closes_the_http_stream_and_keeps_the_partial_text(make) -> None:
    rig = make()
    rig.server.script(stalled_after("Hel", "lo"))
    chat = rig.conversation()
    events = rig.engine.respond(chat, "Hi", "Test openai")
    assert await take(events, 2) == [TextDelta("Hel"), TextDelta("lo")]
    assert rig.server.open_connections == 1
    await events.aclose()
    await wait_for(lambda: rig.server.open_connections == 0, timeout=1.0)
    assert chat.messages[-1] == Message("assistant", "Hello")
    assert chat.interruption(len(chat.messages) - 1) is Interruption.STOPPED
    line = next(x for x in rig.log_lines(chat) if x["type"] == "interrupted")
    assert (line["how"], line["kept_text"]) == ("stopped", "Hello")
    assert not rig.engine.is_busy(chat)


async def test_cancelling_the_consuming_task_closes_the_stream(make) -> None:
    rig = make()
    rig.server.script(stalled_after("Par", "tial"))
    chat = rig.conversation()
    seen: list[object] = []

    async def consume() -> None:
        async for event in rig.engine.respond(chat, "Hi", "Test openai"):
            seen.append(event)

    task = asyncio.create_task(consume())
    await wait_for(lambda: len(seen) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(lambda: rig.server.open_connections == 0, timeout=1.0)
    assert chat.messages[-1] == Message("assistant", "Partial")


async def test_the_stop_button_ends_with_done_stopped(make) -> None:
    rig = make()
    rig.server.script(stalled_after("Half a"))
    chat = rig.conversation()
    events = rig.engine.respond(chat, "Hi", "Test openai")
    assert await take(events, 1) == [TextDelta("Half a")]
    assert rig.engine.stop(chat)
    rest = [event async for event in events]
    assert len(rest) == 1 and isinstance(rest[0], Done) and rest[0].stopped
    await wait_for(lambda: rig.server.open_connections == 0, timeout=1.0)
    assert chat.messages[-1] == Message("assistant", "Half a")
    assert chat.interruption(1) is Interruption.STOPPED
    assert rig.log_lines(chat)[-1]["type"] == "done" and rig.log_lines(chat)[-1]["stopped"] is True


async def test_cancelling_during_a_tool_cancels_it_within_a_second(make) -> None:
    cancelled = asyncio.Event()

    async def forever() -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    tools = FunctionTools(forever=forever)
    rig = make(tools=tools)
    rig.server.script(Reply(200, openai_tool_calls(("call_1", "forever", ["{}"]))))
    chat = rig.conversation()
    events = rig.engine.respond(chat, "Wait", "Test openai")
    assert isinstance((await take(events, 1))[0], ToolCallStarted)
    await wait_for(lambda: bool(tools.calls))
    loop = asyncio.get_running_loop()
    start = loop.time()
    await events.aclose()
    assert cancelled.is_set() and loop.time() - start < 1.0
    assert chat.messages[-1] == Message("tool", CANCELLED_TOOL, tool_call_id="call_1", name="forever", is_error=True)
    assert chat.interruption(len(chat.messages) - 1) is Interruption.STOPPED


async def test_fault_before_the_first_token_is_one_error_then_done(make) -> None:
    rig = make()
    rig.server.script(Reply.json({"error": {"message": f"bad key {SECRET_KEY}"}}, status=401))
    chat = rig.conversation()
    events = await rig.collect(chat, "Hi")
    assert len(events) == 2 and isinstance(events[1], Done)
    error = events[0]
    assert error == Error(SENTENCES[FaultKind.AUTH], error.detail, "auth")
    assert SECRET_KEY not in error.message and "Traceback" not in error.message
    assert chat.messages == [Message("user", "Hi")]
    line = next(x for x in rig.log_lines(chat) if x["type"] == "error")
    assert line["kind"] == "auth" and "HTTP 401" in line["detail"]
    assert "Traceback (most recent call last)" in line["traceback"] and "LLMError" in line["traceback"]


async def test_interruption_after_the_first_token_keeps_the_partial_text(make) -> None:
    rig = make()
    rig.server.script(Reply(200, [openai_chunk({"content": "The answer is"}), 0.05], abort=True))
    chat = rig.conversation()
    events = await rig.collect(chat, "Tell me")
    assert events[0] == TextDelta("The answer is")
    assert isinstance(events[1], Error) and events[1].kind == "incomplete"
    assert events[1].message == SENTENCES[FaultKind.INCOMPLETE]
    assert isinstance(events[2], Done) and len(events) == 3
    assert chat.messages[-1] == Message("assistant", "The answer is")
    assert chat.interruption(1) is Interruption.FAULT
    # The next turn still works and carries the partial reply as history.
    rig.server.script(Reply(200, openai_text("42.")))
    await rig.collect(chat, "Go on")
    assert rig.sent_messages()[2] == {"role": "assistant", "content": "The answer is"}


async def test_status_updates_while_waiting_for_the_model(make) -> None:
    rig = make(status_interval_s=0.1)
    rig.server.script(Reply(200, [0.35, *openai_text("Late", " but", " here")]))
    events = await rig.collect(rig.conversation(), "Slow?")
    statuses = [e for e in events if isinstance(e, Status)]
    assert [s.text for s in statuses[:3]] == ["Still working — 0.1 s", "Still working — 0.2 s",
                                              "Still working — 0.3 s"]
    elapsed = [s.elapsed_s for s in statuses]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0.1  # measured from the start of the wait
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert not any(isinstance(e, Status) for e in events[first_text:])  # none once text flows


async def test_status_updates_while_a_tool_runs(make) -> None:
    async def slow() -> str:
        await asyncio.sleep(0.25)
        return "done"

    rig = make(tools=FunctionTools(slow=slow), status_interval_s=0.1)
    rig.server.script(Reply(200, openai_tool_calls(("c1", "slow", ["{}"]))), Reply(200, openai_text("Ok.")))
    chat = rig.conversation()
    events = await rig.collect(chat, "Run it")
    started = next(i for i, e in enumerate(events) if isinstance(e, ToolCallStarted))
    finished = next(i for i, e in enumerate(events) if isinstance(e, ToolCallFinished))
    between = events[started + 1:finished]
    assert [e.text for e in between][:2] == ["Still working — 0.1 s", "Still working — 0.2 s"]
    assert all(isinstance(e, Status) for e in between)
    assert [x["text"] for x in rig.log_lines(chat) if x["type"] == "status"] == [e.text for e in between]


async def test_disabled_calls_make_no_request(make) -> None:
    rig = make(disable_llm_calls=True)
    chat = rig.conversation()
    events = await rig.collect(chat, "Hello?")
    assert events[0] == Error(SENTENCES[FaultKind.DISABLED], events[0].detail, "disabled")
    assert isinstance(events[1], Done) and len(events) == 2 and events[1].rounds == 0
    assert rig.server.requests == []


async def test_unknown_model_is_reported_not_raised(make) -> None:
    rig = make()
    events = await rig.collect(rig.conversation(), "Hi", model="No such model")
    assert isinstance(events[0], Error) and events[0].kind == "unavailable"
    assert isinstance(events[1], Done) and rig.server.requests == []


async def test_unexpected_exception_gives_a_generic_sentence_and_a_logged_traceback(make) -> None:
    class BrokenTools(FunctionTools):
        def specs(self) -> list:
            raise KeyError("internal detail")

    rig = make(tools=BrokenTools())
    chat = rig.conversation()
    events = await rig.collect(chat, "Hi")
    assert events[0] == Error(GENERIC_ERROR, events[0].detail, "internal")
    assert "internal detail" not in events[0].message
    line = next(x for x in rig.log_lines(chat) if x["type"] == "error")
    assert "KeyError" in line["traceback"]


async def test_a_second_message_while_replying_is_refused(make) -> None:
    rig = make()
    rig.server.script(stalled_after("Busy"))
    chat = rig.conversation()
    first = rig.engine.respond(chat, "One", "Test openai")
    await take(first, 1)
    second = await rig.collect(chat, "Two")
    assert isinstance(second[0], Error) and second[0].kind == "busy" and isinstance(second[1], Done)
    assert [m.content for m in chat.messages] == ["One"]
    await first.aclose()
