"""Small helpers for provider tests: a model pointing at the scripted server, and draining a stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from galaxy_chat.llm.factory import create_provider
from galaxy_chat.llm.messages import ChatRequest, Message, StreamDone, TextPiece
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.provider import Provider
from galaxy_chat.testing.llm_server import ScriptedServer, sse

SECRET_KEY = "sk-test-SECRET-123"


def model_for(server: ScriptedServer, provider: str = "openai", **overrides: Any) -> ModelConfig:
    base = {"openai": "/v1", "anthropic": "/v1", "ollama": ""}[provider]
    fields: dict[str, Any] = {
        "name": f"Test {provider}", "provider": provider, "base_url": server.base_url + base,
        "api_key": SecretStr(SECRET_KEY if provider != "ollama" else ""), "model_name": "test-model",
    }
    return ModelConfig(**(fields | overrides))


def provider_for(server: ScriptedServer, client: httpx.AsyncClient, provider: str = "openai", **overrides: Any
                 ) -> Provider:
    return create_provider(model_for(server, provider, **overrides), client)


def hello_request(**kwargs: Any) -> ChatRequest:
    return ChatRequest([Message("system", "Be brief."), Message("user", "Hello?")], **kwargs)


async def drain(provider: Provider, request: ChatRequest | None = None) -> tuple[list[str], StreamDone]:
    pieces: list[str] = []
    done: StreamDone | None = None
    async for delta in provider.stream(request or hello_request()):
        if isinstance(delta, TextPiece):
            pieces.append(delta.text)
        else:
            assert done is None, "more than one StreamDone"
            done = delta
    assert done is not None, "no StreamDone"
    return pieces, done


# A model's whole answer to the health check's "hi", in OpenAI's streaming format.
HI_STREAM = [
    sse({"choices": [{"delta": {"content": "Hi"}, "index": 0}]}),
    sse({"choices": [{"delta": {}, "finish_reason": "stop", "index": 0}]}),
    b"data: [DONE]\n\n",
]


def health_model_file(tmp_path: Path, base_url: str, *names: str, extra: str = "") -> Path:
    path = tmp_path / "llms.yml"
    path.write_text("models:\n" + "".join(
        f"  - {{name: {name}, provider: openai, base_url: '{base_url}/{name}', api_key: '${{TEST_KEY}}',"
        f" model_name: m-{name}, headers: {{X-Gateway: '${{TEST_KEY}}'}}}}\n"
        for name in names
    ) + extra)
    return path
