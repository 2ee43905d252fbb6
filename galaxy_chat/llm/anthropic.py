"""Anthropic Messages API: system prompt at the top level, tool_use / tool_result blocks, typed stream events."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.messages import ChatRequest, Message, ProviderDelta, StreamDone, TextPiece
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.streaming import PartialCall, assembled, json_payload, sse_events, with_retries
from galaxy_chat.vocabulary.events import Usage

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens on every request
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def tool_input(arguments: str) -> dict[str, Any]:
    """Anthropic wants the input as an object; keep invalid JSON visible instead of dropping it."""
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {"_invalid_json": arguments}
    return value if isinstance(value, dict) else {"_value": value}


def content_blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content,
             "is_error": message.is_error}
        ]
    blocks: list[dict[str, Any]] = [  # images first: Anthropic's advice for image questions
        {"type": "image", "source": {"type": "base64", "media_type": image.mime,
                                     "data": base64.b64encode(image.data).decode()}} for image in message.images]
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)})
    return blocks


def wire_messages(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """System text apart; tool results travel in user turns; consecutive same-role turns are merged."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = content_blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


@dataclass
class _StreamState:
    calls: dict[int, PartialCall] = field(default_factory=dict)  # tool_use blocks by content index
    stop_reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    done: bool = False

    def result(self) -> StreamDone:
        calls = assembled(self.calls)
        reason = "tool_calls" if calls else STOP_REASONS.get(self.stop_reason, self.stop_reason or "stop")
        return StreamDone(reason, calls, Usage(self.input_tokens, self.output_tokens))


class AnthropicProvider:
    def __init__(self, config: ModelConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    @property
    def endpoint(self) -> str:
        return f"{self.config.base_url.rstrip('/')}/messages"

    def body(self, request: ChatRequest) -> dict[str, Any]:
        system, turns = wire_messages(request.messages)
        body: dict[str, Any] = {
            "model": self.config.model_name,
            "max_tokens": request.max_tokens or self.config.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": turns,
            "stream": True,
        }
        if system:
            body["system"] = system
        if request.tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools
            ]
        temperature = request.temperature if request.temperature is not None else self.config.temperature
        if temperature is not None:
            body["temperature"] = min(temperature, 1.0)  # Anthropic's range is 0..1
        return body

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderDelta]:
        return with_retries(lambda: self._attempt(request), self.config.name)

    async def _attempt(self, request: ChatRequest) -> AsyncIterator[ProviderDelta]:
        host = urlsplit(self.endpoint).netloc
        headers = {"x-api-key": self.config.api_key.get_secret_value(), "anthropic-version": API_VERSION}
        state = _StreamState()
        async with sse_events(self.client, self.config, self.endpoint, headers, self.body(request)) as events:
            async for event in events:
                if event.event == "ping" or not event.data:
                    continue
                payload = json_payload(event, host)
                if not isinstance(payload, dict):
                    raise LLMError(FaultKind.MALFORMED, f"SSE data from {host} is not an object")
                if text := self._absorb(event.event or str(payload.get("type", "")), payload, state, host):
                    yield TextPiece(text)
                if state.done:
                    break
        if not state.done:
            raise LLMError(FaultKind.INCOMPLETE, f"stream from {host} ended without message_stop")
        yield state.result()

    @staticmethod
    def _absorb(kind: str, payload: dict[str, Any], state: _StreamState, host: str) -> str:
        if kind == "message_start":
            usage = (payload.get("message") or {}).get("usage") or {}
            state.input_tokens = int(usage.get("input_tokens") or 0)
            state.output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") == "tool_use":
                state.calls[int(payload.get("index", 0))] = PartialCall(block.get("id", ""), block.get("name", ""))
            return str(block.get("text") or "")
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            if delta.get("type") == "text_delta":
                return str(delta.get("text") or "")
            if delta.get("type") == "input_json_delta":
                call = state.calls.setdefault(int(payload.get("index", 0)), PartialCall())
                call.fragments.append(str(delta.get("partial_json") or ""))
        elif kind == "message_delta":
            state.stop_reason = (payload.get("delta") or {}).get("stop_reason") or state.stop_reason
            state.output_tokens = int((payload.get("usage") or {}).get("output_tokens") or state.output_tokens)
        elif kind == "message_stop":
            state.done = True
        elif kind == "error":
            error = payload.get("error") or {}
            raise LLMError(FaultKind.PROVIDER_ERROR, f"error event from {host}: {error.get('type')}: "
                           f"{error.get('message')}")
        return ""
