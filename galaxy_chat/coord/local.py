"""`LocalCoordinator`: the in-process Coordinator of one replica (and the fallback of a degraded one).

Everything lives in this process's memory. The async methods never wait on anything: each calls its
synchronous twin (`allow_now`, `acquire_now`, ...), which the core's limits use directly so that one
replica behaves exactly as before there were coordinators.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from galaxy_chat.coord.protocol import END_TYPES, Allowance, Lease, Record

STREAM_MAXLEN = 10_000  # entries kept per live-reply stream (a long reply is a few thousand deltas)
STREAM_TTL_S = 600.0  # a stream nobody wrote to for this long is dropped


def fencing_floor() -> int:
    """Wall-clock microseconds: tokens stay monotonic across a restart of Redis and a fall back to local."""
    return time.time_ns() // 1000


def parse_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class _Stream:
    entries: deque[tuple[str, Record]] = field(default_factory=lambda: deque(maxlen=STREAM_MAXLEN))
    touched: float = 0.0
    grew: asyncio.Event = field(default_factory=asyncio.Event)


class LocalCoordinator:
    shared = False
    outages = 0  # nothing to lose touch with

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or time.monotonic
        self._leases: dict[str, tuple[Lease, float]] = {}  # key -> (lease, expires at)
        self._fences: dict[str, int] = {}  # key -> latest token handed out
        self._counts: dict[str, deque[float]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[Record]]] = {}
        self._streams: dict[str, _Stream] = {}
        self._values: dict[str, tuple[Record, float]] = {}  # key -> (value, expires at)
        self._last_id = (0, 0)

    def state(self) -> dict[str, Any]:
        return {"ok": True, "backend": "local", "degraded": None}

    async def start(self) -> None:
        return None

    # leases
    def acquire_now(self, key: str, owner: str, ttl_s: float) -> Lease | None:
        held = self._leases.get(key)
        if held is not None and held[1] > self.clock():
            return None
        token = max(self._fences.get(key, 0) + 1, fencing_floor())
        self._fences[key] = token
        lease = Lease(key, owner, token, ttl_s, "local")
        self._leases[key] = (lease, self.clock() + ttl_s)
        return lease

    def renew_now(self, lease: Lease) -> Lease | None:
        """Extended while no newer token was handed out, even past expiry when nobody took it since."""
        if self._fences.get(lease.key, 0) > lease.token:
            return None
        self._fences[lease.key] = lease.token
        self._leases[lease.key] = (lease, self.clock() + lease.ttl_s)
        return lease

    def release_now(self, lease: Lease) -> None:
        held = self._leases.get(lease.key)
        if held is not None and held[0].token == lease.token:
            del self._leases[lease.key]

    def holds_now(self, lease: Lease) -> bool:
        held = self._leases.get(lease.key)
        return held is not None and held[0].token == lease.token and held[1] > self.clock()

    async def acquire(self, key: str, owner: str, ttl_s: float) -> Lease | None:
        return self.acquire_now(key, owner, ttl_s)

    async def renew(self, lease: Lease) -> Lease | None:
        return self.renew_now(lease)

    async def release(self, lease: Lease) -> None:
        self.release_now(lease)

    async def holds(self, lease: Lease) -> bool:
        return self.holds_now(lease)

    # rate counting: a sliding window (the times of the counted ones)
    def allow_now(self, key: str, limit: int, window_s: float) -> Allowance:
        now = self.clock()
        window = self._counts.setdefault(key, deque())
        while window and now - window[0] >= window_s:
            window.popleft()
        if len(window) >= limit:
            return Allowance(False, len(window), window_s - (now - window[0]))
        window.append(now)
        return Allowance(True, len(window), 0.0)

    async def allow(self, key: str, limit: int, window_s: float) -> Allowance:
        return self.allow_now(key, limit, window_s)

    # notices
    def notify_now(self, channel: str, message: Record) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            queue.put_nowait(message)

    async def notify(self, channel: str, message: Record) -> None:
        self.notify_now(channel, message)

    async def subscribe(self, channel: str) -> AsyncIterator[Record]:
        queue: asyncio.Queue[Record] = asyncio.Queue()
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[channel].discard(queue)

    def subscribed(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    async def subscribers(self, channel: str) -> int:
        return self.subscribed(channel)

    # values kept for a while
    def remember_now(self, key: str, value: Record, ttl_s: float) -> None:
        self._values[key] = (value, self.clock() + ttl_s)

    def recall_now(self, key: str) -> Record | None:
        kept = self._values.get(key)
        if kept is not None and kept[1] <= self.clock():
            del self._values[key]
            return None
        return kept[0] if kept is not None else None

    def forget_now(self, key: str, value: Record | None = None) -> None:
        if value is None or self.recall_now(key) == value:
            self._values.pop(key, None)

    async def remember(self, key: str, value: Record, ttl_s: float) -> None:
        self.remember_now(key, value, ttl_s)

    async def recall(self, key: str) -> Record | None:
        return self.recall_now(key)

    async def forget(self, key: str, value: Record | None = None) -> None:
        self.forget_now(key, value)

    # live-reply streams
    def _next_id(self) -> str:
        ms = time.time_ns() // 1_000_000
        self._last_id = (ms, 0) if ms > self._last_id[0] else (self._last_id[0], self._last_id[1] + 1)
        return f"{self._last_id[0]}-{self._last_id[1]}"

    def publish_now(self, conversation: str, record: Record) -> str:
        self._drop_expired()
        stream = self._streams.setdefault(conversation, _Stream())
        entry_id = self._next_id()
        stream.entries.append((entry_id, record))
        stream.touched = self.clock()
        stream.grew.set()
        stream.grew = asyncio.Event()  # followers waiting on the old one wake; later ones wait on this
        return entry_id

    async def publish(self, conversation: str, record: Record) -> str:
        return self.publish_now(conversation, record)

    async def publish_many(self, entries: Sequence[tuple[str, Record]]) -> None:
        for conversation, record in entries:
            self.publish_now(conversation, record)

    def _drop_expired(self) -> None:
        now = self.clock()
        for name in [n for n, s in self._streams.items() if now - s.touched > STREAM_TTL_S]:
            del self._streams[name]

    async def follow(self, conversation: str, from_id: str = "0",
                     idle_s: float = 60.0) -> AsyncIterator[tuple[str, Record]]:
        last = parse_id(from_id)
        while True:
            stream = self._streams.setdefault(conversation, _Stream(touched=self.clock()))
            grew = stream.grew
            for entry_id, record in list(stream.entries):
                if parse_id(entry_id) > last:
                    last = parse_id(entry_id)
                    yield entry_id, record
                    if record.get("type") in END_TYPES:
                        return
            try:
                await asyncio.wait_for(grew.wait(), idle_s)
            except TimeoutError:
                return

    async def aclose(self) -> None:
        self._streams.clear()
        self._values.clear()
