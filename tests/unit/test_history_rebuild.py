"""A chat's model history rebuilt from its events equals what the engine built while answering: the same
messages and the same interruptions, for plain replies, tool rounds, a stop, a broken stream and a crash."""

from __future__ import annotations

import asyncio

from galaxy_chat.core.conversation import Conversation, Interruption
from galaxy_chat.core.history_rebuild import replay_turn
from galaxy_chat.data.retrieval import context_block
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_chunk, openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import Done, Sources, TextDelta, Usage
from galaxy_chat.vocabulary.passages import Passage
from tests.engine_helpers import FunctionTools, take


def rebuilt(turns: list[tuple[str, list]]) -> Conversation:
    conversation = Conversation("system prompt")
    for text, events in turns:
        replay_turn(conversation, text, events)
    return conversation


def same_history(live: Conversation, turns: list[tuple[str, list]]) -> None:
    again = rebuilt(turns)
    assert again.messages == live.messages
    assert again.interrupted == live.interrupted


async def test_plain_replies_and_tool_rounds(make) -> None:
    async def sql_query(sql: str) -> str:
        return f"rows for {sql}"

    rig = make(tools=FunctionTools(sql_query=sql_query))
    rig.server.script(
        Reply(200, openai_text("Hello ", "there.")),
        Reply(200, openai_tool_calls(("c1", "sql_query", ['{"sql": "a"}']), ("c2", "sql_query", ['{"sql": "b"}']),
                                     text="Let me look. ")),
        Reply(200, openai_tool_calls(("c3", "sql_query", ['{"sql": "c"}']))),
        Reply(200, openai_text("Both ", "found.")),
    )
    chat = rig.conversation()
    turns = [("Hi", await rig.collect(chat, "Hi")), ("Look up", await rig.collect(chat, "Look up"))]
    same_history(chat, turns)
    assert [m.role for m in chat.messages] == ["user", "assistant", "user", "assistant", "tool", "tool",
                                               "assistant", "tool", "assistant"]


async def test_a_stop_mid_text_and_a_stop_during_a_tool(make) -> None:
    async def forever() -> str:
        await asyncio.sleep(3600)
        return "never"

    rig = make(tools=FunctionTools(forever=forever))
    rig.server.script(Reply(200, [openai_chunk({"content": "Half a"}), 30.0]),
                      Reply(200, openai_tool_calls(("c1", "forever", ["{}"]))))
    chat = rig.conversation()
    events = rig.engine.respond(chat, "Talk", "Test openai")
    first = await take(events, 1)
    rig.engine.stop(chat)
    turns = [("Talk", first + [event async for event in events])]
    events = rig.engine.respond(chat, "Wait", "Test openai")
    started = await take(events, 1)
    await asyncio.sleep(0.1)
    rig.engine.stop(chat)
    turns.append(("Wait", started + [event async for event in events]))
    same_history(chat, turns)
    assert chat.interruption(1) is Interruption.STOPPED


async def test_a_broken_stream_keeps_its_partial_text_as_a_fault(make) -> None:
    rig = make()
    rig.server.script(Reply(200, [openai_chunk({"content": "Cut "}), openai_chunk({"content": "off"})], abort=True))
    chat = rig.conversation()
    turns = [("Hi", await rig.collect(chat, "Hi"))]
    same_history(chat, turns)
    assert chat.interruption(1) is Interruption.FAULT


def test_a_reply_without_its_end_is_kept_as_far_as_it_went() -> None:
    again = rebuilt([("Hi", [TextDelta("As far "), TextDelta("as it went")])])
    assert again.messages[-1].content == "As far as it went"
    assert again.interruption(1) is Interruption.FAULT


def test_the_passages_given_with_a_question_are_given_again() -> None:
    passage = Passage(source_id="handbook", source_name="Handbook", kind="documents", title="Leave", location="a.md",
                      text="Twenty weeks.", score=0.9)
    again = rebuilt([("How long?", [Sources([passage]), TextDelta("20 weeks [1]."), Done(Usage(), 1.0, 0.1, 1)])])
    assert again.messages[0].content == f"{context_block([passage])}\n\nHow long?"
    assert again.messages[1].content == "20 weeks [1]." and again.interrupted == {}
