"""Traces of the engine exported to a real OTLP/HTTP receiver: a model call per round of the tool loop, each a
child of the turn's span, with names and counts as attributes and never the text."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from galaxy_chat.observability import tracing
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from galaxy_chat.testing.otlp_receiver import OtlpReceiver
from tests.engine_helpers import MODEL, FunctionTools


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint)
    yield server
    tracing.shutdown()
    server.stop()


def test_tracing_is_off_without_an_endpoint() -> None:
    assert not tracing.wanted({})
    assert not tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"})
    assert not tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_TRACES_EXPORTER": "none"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x:4318/v1/traces"})
    assert not tracing.enabled() and tracing.span("x") is tracing.span("y")  # one shared null context


async def test_each_model_call_is_a_child_span_of_the_turn(make, receiver: OtlpReceiver) -> None:
    rig = make(tools=FunctionTools(add=lambda a, b: _text(a + b)))
    rig.server.script(Reply(200, openai_tool_calls(("c1", "add", ['{"a": 2, "b": 3}']))),
                      Reply(200, openai_text("Five, secretly.")))
    assert tracing.configure(os.environ)
    conversation = rig.conversation()
    with tracing.reply_span(conversation.session_id, "model"):
        events = await rig.collect(conversation, "What is 2 plus 3, privately?")
    assert type(events[-1]).__name__ == "Done"
    tracing.shutdown()  # exports what is buffered
    spans = receiver.wait_for("llm.call")
    turn = next(s for s in spans if s.name == "reply")
    calls = sorted((s for s in spans if s.name == "llm.call"), key=lambda s: s.attributes["galaxy_chat.round"])
    assert [s.attributes["galaxy_chat.round"] for s in calls] == [1, 2]
    assert all(s.parent_span_id == turn.span_id and s.trace_id == turn.trace_id for s in calls)
    assert calls[0].attributes["galaxy_chat.model"] == MODEL
    assert turn.attributes["galaxy_chat.session_id"] == conversation.session_id and turn.service == "galaxy-chat"
    shown = [str(v) for s in spans for v in s.attributes.values()]
    assert not any("privately" in v or "secretly" in v for v in shown)


async def _text(value: int) -> str:
    return str(value)
