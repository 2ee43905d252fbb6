"""What the engine needs from the tools: their specs for the model, and a way to run one call."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Protocol

from galaxy_chat.vocabulary.events import ToolCallFinished
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec
from tools.base import CallIO, ToolResult


class ToolRunner(Protocol):
    def specs(self) -> list[ToolSpec]:
        """The tools offered to the model for this reply."""
        ...

    async def run(self, call: ToolCall, io: CallIO | None = None) -> ToolResult:
        """Run one call. A failing tool should return an error outcome; an exception becomes one too. `io`
        carries the call's progress and questions to the person.

        The runner applies each tool's timeout; the engine cancels the task when the person stops.
        """
        ...


class NoTools:
    """No tools at all: the model is offered none, and a call it invents anyway gets an error result."""

    def specs(self) -> list[ToolSpec]:
        return []

    async def run(self, call: ToolCall, io: CallIO | None = None) -> ToolResult:
        return ToolResult.error(f"There is no tool named {call.name!r}.")



@dataclass(frozen=True)
class FinishedCall:
    """A call that has run: its outcome, how long it took, and the traceback if the tool raised."""

    index: int  # position in the model's list of calls
    call: ToolCall
    outcome: ToolResult
    duration_s: float
    traceback: str | None = None

    def event(self) -> ToolCallFinished:
        o = self.outcome
        return ToolCallFinished(self.call.id, self.call.name, o.text, o.is_error, self.duration_s, list(o.widgets),
                                o.reduced_isolation)


async def run_timed(runner: ToolRunner, index: int, call: ToolCall, io: CallIO | None = None) -> FinishedCall:
    """Run one call; an exception becomes an error outcome the model and the person see, and its
    traceback goes to the session log (never to them)."""
    started = time.monotonic()
    try:
        outcome = await runner.run(call, io)
        trace = outcome.detail or None  # a tool that raised inside the runner: its traceback, for the log
    except Exception:
        outcome = ToolResult.error(f"The tool {call.name!r} failed unexpectedly.")
        trace = traceback.format_exc()
    return FinishedCall(index, call, outcome, time.monotonic() - started, trace)
