"""Draining a replica before it stops: no new messages, running replies get time to finish.

A stop (SIGTERM from Kubernetes, `docker stop`, a rolling update) begins a drain: `/ready` answers 503 at once
so the load balancer sends no new tabs here, every new message is refused with a sentence telling the person
to reload (another replica then serves them), and the runs already going on may finish for up to
DRAIN_TIMEOUT_S. Whatever still runs then is stopped as at any shutdown: its partial text is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.limits import RateLimiter, RunSlots

log = logging.getLogger(__name__)

POLL_S = 0.1  # a run's end is seen this soon; runs end in the sessions' own tasks, with nothing to await here
STOP_WAIT_S = 5.0  # a stopped reply ends within a moment (the engine closes its stream); never wait longer


@dataclass(frozen=True)
class DrainOutcome:
    seconds: float  # from the start of the drain until nothing ran (or the stopped runs ended)
    finished: int  # runs that were going on at the start and ended by themselves
    stopped: int  # replies still running at DRAIN_TIMEOUT_S, stopped with their partial text


class Drain:
    def __init__(self, limiter: RateLimiter, slots: RunSlots, sessions: Callable[[], list[ChatSession]],
                 timeout_s: float) -> None:
        self.limiter = limiter
        self.slots = slots
        self.sessions = sessions
        self.timeout_s = timeout_s
        self.started: float | None = None  # time.monotonic() when the drain began

    @property
    def draining(self) -> bool:
        return self.started is not None

    def begin(self) -> None:
        """From now on: new messages refused, /ready 503 (see `state`)."""
        if self.started is None:
            self.started = time.monotonic()
            self.limiter.draining = True

    def state(self) -> dict[str, Any]:
        """The readiness check: not ready while draining, with the runs still going on."""
        if self.started is None:
            return {"ok": True, "draining": False}
        return {"ok": False, "draining": True, "for_s": round(time.monotonic() - self.started, 1),
                "running": self.slots.running}

    async def run(self) -> DrainOutcome:
        """Begin, wait for the running replies (at most `timeout_s`), then stop those still going."""
        self.begin()
        assert self.started is not None
        at_start = self.slots.running
        log.info("draining: refusing new messages; %d run(s) going on get up to %.0f s to finish",
                 at_start, self.timeout_s)
        deadline = self.started + self.timeout_s
        while self.slots.running and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        busy = [session for session in self.sessions() if session.busy]
        for session in busy:
            session.stop()
        if busy:
            await asyncio.wait([asyncio.ensure_future(session.wait()) for session in busy], timeout=STOP_WAIT_S)
        outcome = DrainOutcome(round(time.monotonic() - self.started, 2), max(0, at_start - len(busy)), len(busy))
        if busy:
            log.warning("drain: %d reply(ies) still running after %.0f s were stopped (partial text kept)",
                        len(busy), self.timeout_s)
        log.info("drained in %.1f s: %d run(s) finished, %d stopped", outcome.seconds, outcome.finished,
                 outcome.stopped)
        return outcome
