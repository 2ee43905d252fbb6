"""What the engine needs from the tools: their specs for the model, and a way to run one call."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Protocol

from galaxy_chat.core.events import ToolCallFinished
from galaxy_chat.llm.messages import ToolCall, ToolSpec


@dataclass(frozen=True)
class ToolOutcome:
    """The result of one call: `text` goes back to the model, `widgets` are shown to the person."""

    text: str
    is_error: bool = False
    widgets: list[Any] = field(default_factory=list)  # declarative widgets (pydantic models, see tools/)
    reduced_isolation: bool = False  # the tool ran with weaker sandboxing than intended


class ToolRunner(Protocol):
    def specs(self) -> list[ToolSpec]:
        """The tools offered to the model for this reply."""
        ...

    async def run(self, call: ToolCall) -> ToolOutcome:
        """Run one call. A failing tool should return an error outcome; an exception becomes one too.

        The runner applies each tool's timeout; the engine cancels the task when the person stops.
        """
        ...


class NoTools:
    """No tools at all: the model is offered none, and a call it invents anyway gets an error result."""

    def specs(self) -> list[ToolSpec]:
        return []

    async def run(self, call: ToolCall) -> ToolOutcome:
        return ToolOutcome(f"There is no tool named {call.name!r}.", is_error=True)



@dataclass(frozen=True)
class FinishedCall:
    """A call that has run: its outcome, how long it took, and the traceback if the tool raised."""

    index: int  # position in the model's list of calls
    call: ToolCall
    outcome: ToolOutcome
    duration_s: float
    traceback: str | None = None

    def event(self) -> ToolCallFinished:
        o = self.outcome
        return ToolCallFinished(self.call.id, self.call.name, o.text, o.is_error, self.duration_s, list(o.widgets),
                                o.reduced_isolation)


async def run_timed(runner: ToolRunner, index: int, call: ToolCall) -> FinishedCall:
    """Run one call; an exception becomes an error outcome the model and the person see, and its
    traceback goes to the session log (never to them)."""
    started = time.monotonic()
    try:
        outcome, trace = await runner.run(call), None
    except Exception:
        outcome = ToolOutcome(f"The tool {call.name!r} failed unexpectedly.", is_error=True)
        trace = traceback.format_exc()
    return FinishedCall(index, call, outcome, time.monotonic() - started, trace)
