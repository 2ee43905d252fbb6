"""An attached image reaches a model that can see in its own wire format, over a real HTTP server."""

from __future__ import annotations

import base64

import pytest

from galaxy_chat.llm.messages import ChatRequest, ImagePart, Message
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import anthropic_text, openai_text
from tests.provider_helpers import drain, provider_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24  # what the wire carries is the bytes, whatever they draw
ENCODED = base64.b64encode(PNG).decode()


def looking() -> ChatRequest:
    return ChatRequest([Message("system", "Be brief."),
                        Message("user", "What is in this picture?", images=[ImagePart("image/png", PNG)])])


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_openai_and_ollama_get_the_image_as_a_data_url_part(llm_server, client, provider: str) -> None:
    llm_server.script(Reply(200, openai_text("A dot.")))
    pieces, _ = await drain(provider_for(llm_server, client, provider), looking())
    assert pieces == ["A dot."]
    user = llm_server.requests[0].json()["messages"][1]
    assert user == {"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{ENCODED}"}}]}


async def test_anthropic_gets_an_image_block_before_the_question(llm_server, client) -> None:
    llm_server.script(Reply(200, anthropic_text("A dot.")))
    pieces, _ = await drain(provider_for(llm_server, client, "anthropic"), looking())
    assert pieces == ["A dot."]
    (user,) = llm_server.requests[0].json()["messages"]
    assert user == {"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ENCODED}},
        {"type": "text", "text": "What is in this picture?"}]}


async def test_a_message_without_images_keeps_the_plain_text_form(llm_server, client) -> None:
    llm_server.script(Reply(200, openai_text("Hi.")))
    await drain(provider_for(llm_server, client), ChatRequest([Message("user", "Hello?")]))
    assert llm_server.requests[0].json()["messages"] == [{"role": "user", "content": "Hello?"}]
