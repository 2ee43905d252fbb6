"""Faults become one LLMError with a user sentence; 429/5xx are retried only before the first token."""

from __future__ import annotations

import asyncio
import time

import pytest

from galaxy_chat.llm.errors import SENTENCES, FaultKind, LLMError
from galaxy_chat.llm.messages import TextPiece
from galaxy_chat.testing.app_process import free_port
from galaxy_chat.testing.llm_server import Reply, sse
from galaxy_chat.testing.llm_wire import anthropic_text, openai_chunk, openai_text
from tests.provider_helpers import SECRET_KEY, drain, hello_request, model_for, provider_for


async def fault_of(provider) -> LLMError:
    with pytest.raises(LLMError) as caught:
        await drain(provider)
    error = caught.value
    assert SECRET_KEY not in str(error) and SECRET_KEY not in error.detail
    assert "Traceback" not in str(error)
    return error


@pytest.mark.parametrize(("status", "kind"), [
    (401, FaultKind.AUTH), (403, FaultKind.AUTH), (404, FaultKind.NOT_FOUND), (400, FaultKind.BAD_REQUEST),
])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_client_errors_are_not_retried(llm_server, client, provider: str, status: int, kind: FaultKind) -> None:
    llm_server.script(Reply.json({"error": {"message": "nope"}}, status=status))
    error = await fault_of(provider_for(llm_server, client, provider))
    assert error.kind == kind and str(error) == SENTENCES[kind]
    assert len(llm_server.requests) == 1


async def test_rate_limit_is_retried_honouring_retry_after(llm_server, client) -> None:
    llm_server.script(Reply.json({"error": "slow down"}, 429, {"Retry-After": "1"}), Reply(200, openai_text("ok")))
    began = time.monotonic()
    pieces, _ = await drain(provider_for(llm_server, client))
    assert pieces == ["ok"] and len(llm_server.requests) == 2
    assert time.monotonic() - began >= 1.0


async def test_server_errors_give_up_after_three_tries(llm_server, client) -> None:
    llm_server.script(*[Reply.json({"error": "down"}, 503)] * 3, Reply(200, openai_text("never")))
    error = await fault_of(provider_for(llm_server, client, "anthropic"))
    assert error.kind == FaultKind.SERVER and error.status == 503
    assert len(llm_server.requests) == 3


async def test_connect_refused(client) -> None:
    from galaxy_chat.llm.factory import create_provider

    class Nowhere:
        base_url = f"http://127.0.0.1:{free_port()}"

    error = await fault_of(create_provider(model_for(Nowhere, "openai"), client))  # type: ignore[arg-type]
    assert error.kind == FaultKind.CONNECT
    assert str(error) == "Could not connect to the model's server. It may be down or unreachable."


async def test_a_stalled_stream_times_out(llm_server, client) -> None:
    llm_server.script(Reply(200, [openai_chunk({"content": "Hel"}), 3.0]))
    began = time.monotonic()
    with pytest.raises(LLMError) as caught:
        await drain(provider_for(llm_server, client, timeout_s=0.5))
    assert caught.value.kind == FaultKind.TIMEOUT
    assert time.monotonic() - began < 2.5


@pytest.mark.parametrize(("chunks", "content_type", "kind"), [
    ([b"data: {not json\n\n"], "text/event-stream", FaultKind.MALFORMED),
    ([b'{"choices": []}'], "application/json", FaultKind.MALFORMED),
    (openai_text("cut", done=False), "text/event-stream", FaultKind.INCOMPLETE),
    ([sse({"error": {"message": "overloaded"}})], "text/event-stream", FaultKind.PROVIDER_ERROR),
])
async def test_openai_stream_faults(llm_server, client, chunks, content_type: str, kind: FaultKind) -> None:
    llm_server.script(Reply(200, chunks, {"Content-Type": content_type}))
    assert (await fault_of(provider_for(llm_server, client))).kind == kind


async def test_anthropic_error_event_inside_a_200_stream(llm_server, client) -> None:
    error_event = sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
    llm_server.script(Reply(200, [*anthropic_text("Partial")[:4], error_event]))
    error = await fault_of(provider_for(llm_server, client, "anthropic"))
    assert error.kind == FaultKind.PROVIDER_ERROR and "overloaded_error" in error.detail


async def test_anthropic_stream_without_message_stop_is_incomplete(llm_server, client) -> None:
    llm_server.script(Reply(200, anthropic_text("Half")[:-1]))
    assert (await fault_of(provider_for(llm_server, client, "anthropic"))).kind == FaultKind.INCOMPLETE


async def test_interruption_after_first_token_keeps_text_and_is_not_retried(llm_server, client) -> None:
    llm_server.script(Reply(200, openai_text("Partial ", "answer")[:2], abort=True), Reply(200, openai_text("x")))
    received: list[str] = []
    with pytest.raises(LLMError) as caught:
        async for delta in provider_for(llm_server, client).stream(hello_request()):
            if isinstance(delta, TextPiece):
                received.append(delta.text)
    assert received == ["Partial "]
    assert caught.value.kind == FaultKind.INCOMPLETE
    assert len(llm_server.requests) == 1


async def test_cancelling_mid_stream_closes_the_http_connection(llm_server, client) -> None:
    tick = openai_chunk({"content": "tick "})
    llm_server.script(Reply(200, [tick, *[0.05, tick] * 200]))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in provider_for(llm_server, client).stream(hello_request()):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    assert llm_server.open_connections == 1
    task.cancel()
    began = time.monotonic()
    while llm_server.open_connections and time.monotonic() - began < 1.0:
        await asyncio.sleep(0.02)
    assert llm_server.open_connections == 0, "the HTTP stream was not closed within 1 s"
