"""The internal message model every provider translates to and from its own wire format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for. `arguments` is the raw JSON text the model produced (it may be invalid)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: `parameters` is a JSON schema (OpenAI's `parameters`)."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)  # assistant messages only
    tool_call_id: str | None = None  # tool messages only: which call this answers
    name: str | None = None  # tool messages only: the tool's name
    is_error: bool = False  # tool messages only: the tool failed (Anthropic's `is_error`)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True)
class ChatRequest:
    """One call to a model: the whole context (system prompt first) and the tools it may call."""

    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None


# What a provider's stream yields: text as it arrives, then exactly one StreamDone.
@dataclass(frozen=True)
class TextPiece:
    text: str


@dataclass(frozen=True)
class StreamDone:
    finish_reason: str  # "stop", "tool_calls", "length", ... as normalised by the provider
    tool_calls: list[ToolCall] = field(default_factory=list)  # complete calls, in the model's order
    usage: Usage | None = None


ProviderDelta = TextPiece | StreamDone
