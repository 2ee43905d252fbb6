"""How busy this process is, measured over windows of WINDOW_S: the share of one core it used, and how late the
event loop ran a probe timer set every PROBE_S (a loop with more work than time, or a core taken by other
processes, runs it late; the probe runs only while streaming asks for the load). Streaming decides from it
how much work to spare (ui/stream_pacing.py, core/read_batching.py): with CPU to spare, every reply is read
as its tokens come and updates its page every frame; only in a busy process do they batch.

The process's CPU time (all threads: the history writer shares the interpreter and the core) is read once
per window, from the event loop's thread, when streaming asks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

WINDOW_S = 0.25
STALE_S = 1.0  # a window longer than this (nothing streamed) says nothing about the load now
LATE_S = 0.01  # a timer this late means the loop is behind (the lag target is 50 ms)
PROBE_S = 0.02  # while streaming: a wake-up per token of one reply at 50 tokens/s, merged with others under load


class LoopLoad:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cpu: Callable[[], float] = time.process_time, late_s: float = LATE_S) -> None:
        self.clock, self.cpu, self.late_s = clock, cpu, late_s
        self.busy = 0.0  # share of a core used over the last window
        self.late = 0.0  # the latest timer of the last window (s)
        self.windows = 0  # windows measured so far (a new measure is there when this changes)
        self._at, self._cpu_at, self._late = clock(), cpu(), 0.0
        self._asked = 0.0
        self._probe: asyncio.TimerHandle | None = None

    def sample(self, now: float | None = None) -> float:
        """The busy share, measured again when a window has passed."""
        now = self.clock() if now is None else now
        self._asked = now
        if self._probe is None:
            self._start_probe()
        span = now - self._at
        if span < WINDOW_S:
            return self.busy
        cpu = self.cpu()
        stale = span > STALE_S
        self.busy = 0.0 if stale else (cpu - self._cpu_at) / span
        self.late = 0.0 if stale else self._late
        self.windows += 1
        self._at, self._cpu_at, self._late = now, cpu, 0.0
        return self.busy

    def over(self, share: float) -> float:
        """The larger of: the CPU share used over `share`, the lateness over `late_s` (1: at the limit)."""
        return max(self.busy / share, self.late / self.late_s)


    def _start_probe(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a simulation on its own clock): CPU share only
            return
        self._next_probe(loop)

    def _next_probe(self, loop: asyncio.AbstractEventLoop) -> None:
        due = loop.time() + PROBE_S
        self._probe = loop.call_at(due, self._probed, loop, due)

    def _probed(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self._late = max(self._late, loop.time() - due)
        if self.clock() - self._asked > STALE_S:  # streaming has stopped: so does the probe
            self._probe = None
        else:
            self._next_probe(loop)


LOAD = LoopLoad()  # one per process: every reply's reads and page updates share the one core
