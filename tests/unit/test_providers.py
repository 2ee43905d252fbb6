"""Each provider streams text and tool calls from a real HTTP server speaking its wire format."""

from __future__ import annotations

import json
import time

import pytest

from galaxy_chat.llm.messages import ChatRequest, Message
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import anthropic_text, anthropic_tool_use, openai_text, openai_tool_calls, rechunk
from galaxy_chat.vocabulary.events import Usage
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec
from tests.provider_helpers import SECRET_KEY, drain, hello_request, provider_for

SQL_SCHEMA = {"type": "object", "properties": {"sql": {"type": "string"}}}
SQL_TOOL = ToolSpec("sql_query", "Run a read-only SELECT.", SQL_SCHEMA)


async def test_openai_streams_text_and_sends_the_whole_context(llm_server, client) -> None:
    llm_server.script(Reply(200, openai_text("Hel", "lo", " there"), ))
    pieces, done = await drain(provider_for(llm_server, client), hello_request(max_tokens=50, temperature=0.2))
    assert pieces == ["Hel", "lo", " there"]
    assert (done.finish_reason, done.tool_calls, done.usage) == ("stop", [], Usage(12, 5))
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    body = request.json()
    assert body["model"] == "test-model" and body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello?"}]
    assert (body["max_tokens"], body["temperature"]) == (50, 0.2)


async def test_openai_survives_sse_lines_split_across_tcp_chunks(llm_server, client) -> None:
    llm_server.script(Reply(200, rechunk(openai_text("Grüße, ", "wörld ", "✓"), 7)))
    pieces, done = await drain(provider_for(llm_server, client))
    assert "".join(pieces) == "Grüße, wörld ✓"
    assert done.finish_reason == "stop"


async def test_openai_accumulates_parallel_tool_call_fragments(llm_server, client) -> None:
    llm_server.script(Reply(200, rechunk(openai_tool_calls(
        ("call_a", "sql_query", ['{"sql": "SEL', 'ECT 1"}']),
        ("call_b", "calculator", ['{"expr', 'ession": "2*', '(3+4)"}']),
    ), 11)))
    pieces, done = await drain(provider_for(llm_server, client), hello_request(tools=[SQL_TOOL]))
    assert pieces == []
    assert done.finish_reason == "tool_calls"
    assert done.tool_calls == [
        ToolCall("call_a", "sql_query", '{"sql": "SELECT 1"}'),
        ToolCall("call_b", "calculator", '{"expression": "2*(3+4)"}'),
    ]
    sent = llm_server.requests[0].json()
    assert sent["tools"] == [{"type": "function", "function": {
        "name": "sql_query", "description": "Run a read-only SELECT.", "parameters": SQL_TOOL.parameters}}]


async def test_openai_sends_tool_exchange_back_in_its_format(llm_server, client) -> None:
    llm_server.script(Reply(200, openai_text("Done.")))
    history = [
        Message("system", "S"), Message("user", "Count users"),
        Message("assistant", "", tool_calls=[ToolCall("call_1", "sql_query", '{"sql": "SELECT count(*)"}')]),
        Message("tool", "200", tool_call_id="call_1", name="sql_query"),
    ]
    await drain(provider_for(llm_server, client), ChatRequest(history))
    sent = llm_server.requests[0].json()["messages"]
    function = {"name": "sql_query", "arguments": '{"sql": "SELECT count(*)"}'}
    assert sent[2] == {"role": "assistant", "content": None,
                       "tool_calls": [{"id": "call_1", "type": "function", "function": function}]}
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": "200"}


async def test_ollama_uses_its_openai_compatible_v1_endpoint_without_a_key(llm_server, client) -> None:
    llm_server.script(Reply(200, openai_text("Hi from llama")))
    pieces, _ = await drain(provider_for(llm_server, client, "ollama"))
    assert "".join(pieces) == "Hi from llama"
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert "authorization" not in request.headers


async def test_anthropic_streams_text_with_top_level_system(llm_server, client) -> None:
    llm_server.script(Reply(200, rechunk(anthropic_text("Bonjour", " à ", "vous"), 5)))
    pieces, done = await drain(provider_for(llm_server, client, "anthropic"))
    assert "".join(pieces) == "Bonjour à vous"
    assert (done.finish_reason, done.usage) == ("stop", Usage(12, 5))
    (request,) = llm_server.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == SECRET_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    body = request.json()
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello?"}]}]
    assert body["max_tokens"] == 4096 and body["stream"] is True


async def test_anthropic_tool_use_blocks_and_tool_results(llm_server, client) -> None:
    llm_server.script(Reply(200, anthropic_tool_use(
        ("toolu_1", "sql_query", ['{"sql": ', '"SELECT 1"}']), ("toolu_2", "calculator", ['{"expression": "1+1"}']),
        text="Let me check.",
    )))
    request = hello_request(tools=[SQL_TOOL])
    pieces, done = await drain(provider_for(llm_server, client, "anthropic"), request)
    assert pieces == ["Let me check."]
    assert done.finish_reason == "tool_calls"
    assert [call.name for call in done.tool_calls] == ["sql_query", "calculator"]
    assert json.loads(done.tool_calls[0].arguments) == {"sql": "SELECT 1"}
    assert llm_server.requests[0].json()["tools"] == [
        {"name": "sql_query", "description": "Run a read-only SELECT.", "input_schema": SQL_TOOL.parameters}]

    llm_server.script(Reply(200, anthropic_text("One.")))
    follow_up = ChatRequest([
        *request.messages, Message("assistant", "Let me check.", tool_calls=done.tool_calls),
        Message("tool", "1", tool_call_id="toolu_1", name="sql_query"),
        Message("tool", "boom", tool_call_id="toolu_2", name="calculator", is_error=True),
    ])
    await drain(provider_for(llm_server, client, "anthropic"), follow_up)
    turns = llm_server.requests[1].json()["messages"]
    assert turns[1]["role"] == "assistant"
    assert turns[1]["content"][1] == {"type": "tool_use", "id": "toolu_1", "name": "sql_query",
                                      "input": {"sql": "SELECT 1"}}
    assert turns[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1", "is_error": False},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
    ]}


KEEP_ALIVE = pytest.mark.parametrize("llm_server", [True], indirect=True)


@KEEP_ALIVE
@pytest.mark.parametrize("provider, wire", [("openai", openai_text), ("anthropic", anthropic_text)])
async def test_the_next_reply_reuses_the_connection(llm_server, client, provider, wire) -> None:
    """A hosted API keeps the connection open: a new one per reply would cost a TLS handshake each time."""
    llm_server.script(Reply(200, wire("One")), Reply(200, wire("Two")))
    first, _ = await drain(provider_for(llm_server, client, provider))
    second, _ = await drain(provider_for(llm_server, client, provider))
    assert (first, second) == (["One"], ["Two"])
    assert llm_server.connections == 1


@KEEP_ALIVE
async def test_a_server_that_talks_on_after_done_does_not_hold_up_the_reply(llm_server, client) -> None:
    llm_server.script(Reply(200, [*openai_text("Hi"), 5.0, b": still here\n\n"]), Reply(200, openai_text("Next")))
    began = time.monotonic()
    pieces, done = await drain(provider_for(llm_server, client))
    assert (pieces, done.finish_reason) == (["Hi"], "stop")
    assert time.monotonic() - began < 2.0
    assert (await drain(provider_for(llm_server, client)))[0] == ["Next"]
    assert llm_server.connections == 2  # the talkative connection was closed, not reused
