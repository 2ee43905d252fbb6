"""The internal message model every provider translates to and from its own wire format.

ToolCall, ToolSpec and Usage belong to the shared vocabulary (galaxy_chat.vocabulary): tools and events use them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from galaxy_chat.vocabulary.events import Usage
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ImagePart:
    """An image the person attached, for a model that can see (`vision: true`): its bytes and MIME type."""

    mime: str
    data: bytes


@dataclass
class Message:
    role: Role
    content: str = ""
    images: list[ImagePart] = field(default_factory=list)  # user messages only, for vision models
    tool_calls: list[ToolCall] = field(default_factory=list)  # assistant messages only
    tool_call_id: str | None = None  # tool messages only: which call this answers
    name: str | None = None  # tool messages only: the tool's name
    is_error: bool = False  # tool messages only: the tool failed (Anthropic's `is_error`)


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
