"""Server-side limits on what a person may send: size, rate, and one run at a time.

Every way in (the page, `POST /api/commands`) goes through a ChatSession, so these are checked alike.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from galaxy_chat.observability import metrics

RefusalKind = Literal["empty", "too_long", "rate_limited", "busy", "not_permitted", "locked"]
BUSY = "Another of your requests is still running: wait for it to finish or stop it first."


class SendRefused(Exception):
    """The message was not sent; `str()` is a sentence for the person (shown as a toast), `kind` says why."""

    def __init__(self, message: str, kind: RefusalKind = "not_permitted") -> None:
        super().__init__(message)
        self.kind: RefusalKind = kind


class RunSlots:
    """One run at a time per person (a reply, a command over HTTP), whichever session or route starts it."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    def busy(self, key: str) -> bool:
        return key in self._held

    def claim(self, key: str) -> Callable[[], None]:
        """Hold `key`'s slot; the returned function gives it back. Raises SendRefused when it is held."""
        if key in self._held:
            raise SendRefused(BUSY, "busy")
        self._held.add(key)
        return lambda: self._held.discard(key)


class RateLimiter:
    """At most `per_minute` messages in any 60 s window, per key (the user's email)."""

    def __init__(self, per_minute: int, clock: type[time.monotonic] | None = None) -> None:
        self.per_minute = per_minute
        self.clock = clock or time.monotonic
        self.sent: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Record one message for `key`, or raise SendRefused saying when sending works again."""
        now = self.clock()
        window = self.sent.setdefault(key, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.per_minute:
            metrics.RATE_LIMITED.inc()
            wait = max(1, int(60 - (now - window[0]) + 0.999))
            raise SendRefused(f"You have sent {self.per_minute} messages in the last minute. "
                              f"You can send again in {wait} s.", "rate_limited")
        window.append(now)


def clean_message(text: str, max_chars: int) -> str:
    """The text as it may reach the model: no NUL or other control characters, within the size limit."""
    cleaned = "".join(ch for ch in text if ch in "\n\t" or ch >= " ").strip()
    if not cleaned:
        raise SendRefused("The message is empty.", "empty")
    if len(cleaned) > max_chars:
        raise SendRefused(f"The message is too long: {len(cleaned):,} characters, the limit is {max_chars:,}. "
                          "Shorten it or split it.", "too_long")
    return cleaned
