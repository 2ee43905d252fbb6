"""OpenAI-compatible chat completions (OpenAI, vLLM, LiteLLM, LM Studio, llama.cpp, Ollama's /v1)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.messages import ChatRequest, ImagePart, Message, ProviderDelta, StreamDone, TextPiece
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.streaming import PartialCall, assembled, json_payload, sse_events, with_retries
from galaxy_chat.vocabulary.events import Usage

FINISH_REASONS = {"stop": "stop", "tool_calls": "tool_calls", "function_call": "tool_calls", "length": "length"}


def wire_message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in message.tool_calls
            ],
        }
    if message.images:  # OpenAI's content parts; Ollama's OpenAI-compatible endpoint takes the same
        return {"role": message.role, "content": [{"type": "text", "text": message.content}, *(
            {"type": "image_url", "image_url": {"url": data_url(image)}} for image in message.images)]}
    return {"role": message.role, "content": message.content}


def data_url(image: ImagePart) -> str:
    return f"data:{image.mime};base64,{base64.b64encode(image.data).decode()}"


@dataclass
class _StreamState:
    """Tool calls arrive as deltas keyed by index: id and name first, argument fragments after."""

    calls: dict[int, PartialCall] = field(default_factory=dict)
    finish_reason: str = ""
    usage: Usage | None = None
    done: bool = False

    def add_tool_deltas(self, deltas: list[dict[str, Any]]) -> None:
        for position, delta in enumerate(deltas):
            call = self.calls.setdefault(int(delta.get("index", position)), PartialCall())
            call.id = delta.get("id") or call.id
            function = delta.get("function") or {}
            call.name = function.get("name") or call.name
            if function.get("arguments"):
                call.fragments.append(function["arguments"])

    def result(self) -> StreamDone:
        calls = assembled(self.calls)
        reason = "tool_calls" if calls else FINISH_REASONS.get(self.finish_reason, self.finish_reason or "stop")
        return StreamDone(finish_reason=reason, tool_calls=calls, usage=self.usage)


class OpenAIProvider:
    include_usage = True  # ask for the final usage chunk (stream_options.include_usage)

    def __init__(self, config: ModelConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    @property
    def endpoint(self) -> str:
        return f"{self.config.base_url.rstrip('/')}/chat/completions"

    def headers(self) -> dict[str, str]:
        key = self.config.api_key.get_secret_value()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model_name,
            "messages": [wire_message(message) for message in request.messages],
            "stream": True,
        }
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        if request.tools:
            body["tools"] = [
                {"type": "function",
                 "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools
            ]
        max_tokens = request.max_tokens or self.config.max_tokens
        temperature = request.temperature if request.temperature is not None else self.config.temperature
        if max_tokens:
            body["max_tokens"] = max_tokens
        if temperature is not None:
            body["temperature"] = temperature
        return body

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderDelta]:
        return with_retries(lambda: self._attempt(request), self.config.name)

    async def _attempt(self, request: ChatRequest) -> AsyncIterator[ProviderDelta]:
        host = urlsplit(self.endpoint).netloc
        state = _StreamState()
        async with sse_events(self.client, self.config, self.endpoint, self.headers(), self.body(request)) as events:
            async for event in events:
                if event.data.strip() == "[DONE]":
                    state.done = True
                    break
                payload = json_payload(event, host)
                if not isinstance(payload, dict):
                    raise LLMError(FaultKind.MALFORMED, f"SSE data from {host} is not an object")
                if "error" in payload:
                    raise LLMError(FaultKind.PROVIDER_ERROR, f"error event from {host}: {payload['error']}")
                if text := self._absorb(payload, state):
                    yield TextPiece(text)
        if not state.done:
            raise LLMError(FaultKind.INCOMPLETE, f"stream from {host} ended without [DONE]")
        yield state.result()

    @staticmethod
    def _absorb(payload: dict[str, Any], state: _StreamState) -> str:
        if usage := payload.get("usage"):
            state.usage = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        text = ""
        for choice in payload.get("choices") or []:
            delta = choice.get("delta") or {}
            if content := delta.get("content"):
                text += content
            if tool_deltas := delta.get("tool_calls"):
                state.add_tool_deltas(tool_deltas)
            if reason := choice.get("finish_reason"):
                state.finish_reason = reason
        return text


class OllamaProvider(OpenAIProvider):
    """Ollama through its OpenAI-compatible `/v1` endpoint; no key needed."""

    @property
    def endpoint(self) -> str:
        base = self.config.base_url.rstrip("/")
        return f"{base if base.endswith('/v1') else base + '/v1'}/chat/completions"
