"""The event-loop lag timer: a task that asks to wake every INTERVAL_S and records how late it woke.

One blocking call anywhere (a sync database call, a slow render) shows up here for every user at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from galaxy_chat.observability import metrics

INTERVAL_S = 0.5


class LoopLagTimer:
    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="event-loop lag")

    async def _run(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(self.interval_s)
            metrics.LOOP_LAG.observe(max(0.0, time.monotonic() - began - self.interval_s))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
