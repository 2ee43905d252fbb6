"""The "Still working — 10 s" updates: a Status every interval while the engine waits with nothing to show."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from galaxy_chat.vocabulary.events import Status


def format_seconds(seconds: float) -> str:
    """Whole seconds from 10 s on, one decimal below (so short test intervals still read sensibly)."""
    if seconds >= 10:
        return f"{seconds:.0f}"
    return f"{seconds:.1f}".rstrip("0").rstrip(".")


def status_for(tick_s: float, elapsed_s: float) -> Status:
    """The text names the tick (5 s, 10 s, ...) so it reads evenly; `elapsed_s` is the measured wait."""
    return Status(f"Still working — {format_seconds(tick_s)} s", elapsed_s)


class StatusTicker:
    """Call `reset()` whenever an event reaches the person; `run()` (as a task) puts a Status through
    `put` at every `interval` since the last reset, measured from the start of that wait.

    `idle()` says whether the consumer has caught up; a tick is skipped while events are still queued,
    because then the person is not waiting on the model but on the page.
    """

    def __init__(self, put: Callable[[Status], None], interval_s: float, idle: Callable[[], bool]) -> None:
        self._put = put
        self._interval = interval_s
        self._idle = idle
        self._since = time.monotonic()

    def reset(self) -> None:
        # Called per streamed token: one clock read, nothing scheduled.
        self._since = time.monotonic()

    async def run(self) -> None:
        while True:
            since = self._since
            ticks = 1
            while True:
                await asyncio.sleep(max(0.0, since + ticks * self._interval - time.monotonic()))
                if self._since != since:
                    break  # something was shown: a new wait starts at that moment
                if self._idle():
                    self._put(status_for(ticks * self._interval, time.monotonic() - since))
                ticks += 1
