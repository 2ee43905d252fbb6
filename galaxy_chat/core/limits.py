"""Server-side limits on what a person may send: size, rate, and one run at a time.

Every way in (the page, `POST /api/commands`) goes through a ChatSession, so these are checked alike. Each
replica checks them at once, on its own (`check`, `claim`); with a shared coordinator (REDIS_URL) the rate
and the one run at a time are then also checked across replicas (`confirm`, `hold_shared`), which needs the
network and so runs at the start of the reply's task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from galaxy_chat.coord import Allowance, Coordinator, LocalCoordinator
from galaxy_chat.coord.holder import HeldLease
from galaxy_chat.observability import metrics

RefusalKind = Literal["empty", "too_long", "rate_limited", "busy", "not_permitted", "locked", "draining"]
BUSY = "Another of your requests is still running: wait for it to finish or stop it first."
DRAINING = "This server is restarting: reload the page to continue on another one."
RUN_LEASE_S = 6.0  # a replica that dies mid-reply frees the person's slot on the others after this


class SendRefused(Exception):
    """The message was not sent; `str()` is a sentence for the person (shown as a toast), `kind` says why."""

    def __init__(self, message: str, kind: RefusalKind = "not_permitted") -> None:
        super().__init__(message)
        self.kind: RefusalKind = kind


class LeaseLost(Exception):
    """The run's lease passed to a newer holder (this replica stalled past it): the run must write no more."""

    MESSAGE = "This reply stopped: the chat is being answered on another server now. Reload to see it."


def shared(coordinator: Coordinator | None) -> Coordinator | None:
    return coordinator if coordinator is not None and coordinator.shared else None


class RunSlots:
    """One run at a time per person (a reply, a command over HTTP), whichever session or route starts it."""

    def __init__(self, coordinator: Coordinator | None = None, lease_s: float = RUN_LEASE_S) -> None:
        self._held: set[str] = set()
        self.coordinator = shared(coordinator)
        self.lease_s = lease_s

    def busy(self, key: str) -> bool:
        return key in self._held

    @property
    def running(self) -> int:
        """Runs going on at this replica now, from every way in."""
        return len(self._held)

    def claim(self, key: str) -> Callable[[], None]:
        """Hold `key`'s slot; the returned function gives it back. Raises SendRefused when it is held."""
        if key in self._held:
            raise SendRefused(BUSY, "busy")
        self._held.add(key)
        return lambda: self._held.discard(key)

    async def hold_shared(self, key: str) -> HeldLease | None:
        """Across replicas: the person's lease for this run (release it when the run ends), None without a
        shared coordinator. Raises SendRefused while a run of theirs goes on at another replica."""
        if self.coordinator is None:
            return None
        held = await HeldLease.take(self.coordinator, f"run:{key}", self.lease_s)
        if held is None:
            raise SendRefused(BUSY, "busy")
        return held


class RateLimiter:
    """At most `per_minute` messages in any 60 s window (sliding), per key (the user's email)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] | None = None,
                 coordinator: Coordinator | None = None) -> None:
        self.per_minute = per_minute
        self.draining = False  # set when the server drains before it stops: every new message is refused
        self.local = LocalCoordinator(clock)  # this replica's own count: all of it without a shared one
        self.coordinator = shared(coordinator)

    def check(self, key: str) -> None:
        """Record one message for `key`, or raise SendRefused saying when sending works again (or, while the
        server drains, that it is restarting). Every way in checks this before it changes anything."""
        if self.draining:
            raise SendRefused(DRAINING, "draining")
        self._refuse_unless(self.local.allow_now(f"rate:{key}", self.per_minute, 60))

    async def confirm(self, key: str) -> None:
        """Across replicas (a shared coordinator): the same count over all of them, else nothing to do."""
        if self.coordinator is not None:
            self._refuse_unless(await self.coordinator.allow(f"rate:{key}", self.per_minute, 60))

    def _refuse_unless(self, allowance: Allowance) -> None:
        if not allowance.allowed:
            metrics.RATE_LIMITED.inc()
            wait = max(1, int(allowance.retry_after_s + 0.999))
            raise SendRefused(f"You have sent {self.per_minute} messages in the last minute. "
                              f"You can send again in {wait} s.", "rate_limited")


async def admit_across_replicas(slots: RunSlots, limiter: RateLimiter, key: str) -> HeldLease | None:
    """The shared checks of one run, in the order of the local ones: the slot, then the rate. Returns the
    lease to release when the run ends (None without a shared coordinator); raises SendRefused."""
    held = await slots.hold_shared(key)
    try:
        await limiter.confirm(key)
    except BaseException:
        if held is not None:
            await held.release()
        raise
    return held


def clean_message(text: str, max_chars: int) -> str:
    """The text as it may reach the model: no NUL or other control characters, within the size limit."""
    cleaned = "".join(ch for ch in text if ch in "\n\t" or ch >= " ").strip()
    if not cleaned:
        raise SendRefused("The message is empty.", "empty")
    if len(cleaned) > max_chars:
        raise SendRefused(f"The message is too long: {len(cleaned):,} characters, the limit is {max_chars:,}. "
                          "Shorten it or split it.", "too_long")
    return cleaned
