"""The engine's events: one stream, three consumers (the page renders them, the session log writes them,
tests read them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from galaxy_chat.vocabulary.passages import Passage
from galaxy_chat.vocabulary.widgets import Widget


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallStarted:
    call_id: str
    name: str
    arguments: str  # raw JSON text from the model


@dataclass(frozen=True)
class ToolCallFinished:
    call_id: str
    name: str
    text: str  # what the model is told
    is_error: bool
    duration_s: float
    widgets: list[Widget] = field(default_factory=list)  # what the person is shown (data, see widgets.py)
    reduced_isolation: bool = False


@dataclass(frozen=True)
class ToolCallProgress:
    """A running tool's progress: a bar when `total` is known, the message otherwise."""

    call_id: str
    progress: float | None
    total: float | None
    message: str = ""


@dataclass(frozen=True)
class ToolCallLog:
    """A line a running tool's server logged (MCP): kept in the session log, not shown in the chat."""

    call_id: str
    level: str
    text: str


@dataclass(frozen=True)
class ToolCallQuestion:
    """A running tool asks the person to fill in a form (an MCP elicitation): `schema` is a flat JSON schema."""

    call_id: str
    question_id: str
    message: str
    schema: dict[str, Any]
    timeout_s: float


@dataclass(frozen=True)
class ToolCallAnswer:
    """What the person (or the clock) answered: accept with `content`, decline, or cancel."""

    call_id: str
    question_id: str
    action: str  # "accept", "decline" or "cancel"
    content: dict[str, Any] | None = None
    timed_out: bool = False


@dataclass(frozen=True)
class Status:
    text: str  # "Still working — 10 s"
    elapsed_s: float


@dataclass(frozen=True)
class Notice:
    """Something the person should know about this reply that is not an error (the model cannot see the
    images they attached)."""

    text: str


# Errors that the same input would only meet again: no Retry for them.
NOT_RETRYABLE = frozenset({"unknown_command", "bad_command", "command_not_enabled"})


@dataclass(frozen=True)
class Error:
    message: str  # for the user: no secret, no traceback
    detail: str = ""  # for the log
    kind: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind not in NOT_RETRYABLE


@dataclass(frozen=True)
class Done:
    usage: Usage
    duration_s: float
    first_token_s: float | None  # seconds until the first text reached the user, if any
    rounds: int  # model calls made
    stopped: bool = False  # cancelled by the user


@dataclass(frozen=True)
class Sources:
    """Passages retrieved from the chat's data sources and given to the model with this message."""

    passages: list[Passage]


Event = (TextDelta | ToolCallStarted | ToolCallProgress | ToolCallLog | ToolCallQuestion | ToolCallAnswer
         | ToolCallFinished | Status | Notice | Error | Done | Sources)
