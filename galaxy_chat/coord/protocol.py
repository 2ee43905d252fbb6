"""The Coordinator protocol: what replicas of the app share, and the small records it hands out.

One replica uses the in-process implementation (`local.py`); several share one Redis (`redis_coordinator.py`).
Keys are plain strings chosen by the caller ("reply:<email>", "rate:<email>"); each implementation adds its
own namespace. Stream records are JSON objects (the events' records of `vocabulary/event_json.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Record = dict[str, Any]  # one JSON object: a notice, or an event's record in a live-reply stream
END_TYPES = frozenset({"done"})  # a live-reply stream's follower stops after a record of this type


@dataclass(frozen=True)
class Lease:
    """Held by `owner` until it expires unless renewed. `token` grows with every new holder of `key`
    (fencing): a write carrying an older token than the key's latest is from a holder that lost it."""

    key: str
    owner: str
    token: int
    ttl_s: float
    backend: str  # "local" or "redis": where it is held (a degraded replica holds local leases)


@dataclass(frozen=True)
class Allowance:
    """The answer of `allow`: whether this one more is allowed, how many the window now holds, and when the
    oldest counted one leaves it (seconds; 0 when allowed)."""

    allowed: bool
    count: int
    retry_after_s: float


class Coordinator(Protocol):
    shared: bool  # True when other replicas see the same leases, counts, notices and streams
    outages: int  # how often the shared store became unreachable (a stream followed across one has a gap)

    def state(self) -> dict[str, Any]:
        """For /ready: {"ok": True, "backend": ..., "degraded": None or "redis"}."""
        ...

    async def start(self) -> None:
        """Connect (a Redis that does not answer makes the replica start degraded)."""
        ...

    async def acquire(self, key: str, owner: str, ttl_s: float) -> Lease | None:
        """The lease on `key`, or None while someone else holds it."""
        ...

    async def renew(self, lease: Lease) -> Lease | None:
        """The lease extended by its ttl; None when it was lost (a newer token exists): stop writing."""
        ...

    async def release(self, lease: Lease) -> None:
        """Give the lease back (nothing happens when it was already lost)."""
        ...

    async def holds(self, lease: Lease) -> bool:
        """Whether `lease` is still the key's current one (check before a fenced write)."""
        ...

    async def allow(self, key: str, limit: int, window_s: float) -> Allowance:
        """Count one more for `key` if fewer than `limit` were counted in the last `window_s` (sliding)."""
        ...

    async def notify(self, channel: str, message: Record) -> None:
        """Send `message` to every subscriber of `channel`, on any replica (at most once, not kept)."""
        ...

    def subscribe(self, channel: str) -> AsyncIterator[Record]:
        """The messages sent to `channel` from now on (an async generator; close it to unsubscribe)."""
        ...

    async def subscribers(self, channel: str) -> int:
        """How many subscriptions to `channel` are listening now (over all replicas when shared)."""
        ...

    async def remember(self, key: str, value: Record, ttl_s: float) -> None:
        """Keep `value` under `key` for `ttl_s` (seen by every replica when shared); a later call replaces it."""
        ...

    async def recall(self, key: str) -> Record | None:
        """What `key` holds, None once it expired or was forgotten."""
        ...

    async def forget(self, key: str, value: Record | None = None) -> None:
        """Drop `key`; with `value`, only while it still holds exactly that (someone may have replaced it)."""
        ...

    async def publish(self, conversation: str, record: Record) -> str:
        """Append one record to the conversation's live-reply stream; returns its entry id."""
        ...

    async def publish_many(self, entries: Sequence[tuple[str, Record]]) -> None:
        """Append each (stream, record) in order, in one round trip: what a replica's replies wrote lately."""
        ...

    def follow(self, conversation: str, from_id: str = "0", idle_s: float = 60.0) -> AsyncIterator[tuple[str, Record]]:
        """The stream's entries after `from_id` ("0": from its start), then new ones as they come, until a
        record whose type ends a reply, or nothing came for `idle_s` (the writer's replica went away)."""
        ...

    async def aclose(self) -> None: ...
