"""`RedisCoordinator`: leases, rate counts, notices and live-reply streams shared by replicas through Redis.

Every operation is one round trip (an atomic Lua script where it reads and writes). When Redis cannot be
reached the replica is *degraded*: it logs it once, counts and leases locally (its own `LocalCoordinator`,
so each replica still enforces the limits on its own), shows `degraded: redis` in /ready, and probes
Redis every `probe_s` until it answers again; then everything is shared again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from galaxy_chat.coord import redis_scripts
from galaxy_chat.coord.local import STREAM_MAXLEN, STREAM_TTL_S, LocalCoordinator
from galaxy_chat.coord.protocol import END_TYPES, Allowance, Lease, Record

log = logging.getLogger(__name__)
T = TypeVar("T")
UNREACHABLE = (RedisError, OSError)  # refused, reset, timed out: all mean "degraded"
BLOCK_MS = 1_000  # one XREAD waits this long at most, so a follower notices an outage or its idle time


class RedisCoordinator:
    shared = True

    def __init__(self, url: str, prefix: str = "galaxy:", timeout_s: float = 1.0, probe_s: float = 1.0,
                 watch_s: float = 5.0) -> None:
        # One immediate retry on a broken connection only (a pooled connection from before a restart of Redis
        # is dead; a new one works), none on a timeout: an outage shows at once.
        retry = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
        options: dict[str, Any] = {"decode_responses": True, "socket_connect_timeout": timeout_s, "retry": retry}
        self.client = Redis.from_url(url, socket_timeout=timeout_s, **options)
        self._blocking = Redis.from_url(url, socket_timeout=timeout_s + BLOCK_MS / 1000, **options)  # XREAD BLOCK
        self.prefix = prefix
        self.probe_s = probe_s
        self.watch_s = watch_s  # a healthy Redis is pinged this often, so /ready notices an outage unprompted
        self._watch: asyncio.Task[None] | None = None
        self.local = LocalCoordinator()  # what this replica uses on its own while degraded
        self.degraded_since: float | None = None
        self.outages = 0
        self._probe: asyncio.Task[None] | None = None
        self._acquire = self.client.register_script(redis_scripts.ACQUIRE)
        self._renew = self.client.register_script(redis_scripts.RENEW)
        self._release = self.client.register_script(redis_scripts.RELEASE)
        self._allow = self.client.register_script(redis_scripts.ALLOW)

    def state(self) -> dict[str, Any]:
        degraded = self.degraded_since is not None
        return {"ok": True, "backend": "redis", "degraded": "redis" if degraded else None,
                **({"degraded_for_s": round(time.monotonic() - self.degraded_since, 1)} if degraded else {})}

    async def start(self) -> None:
        """Find out now whether Redis answers (else start degraded), and keep watching it. A few tries: the
        event loop is busy at start-up, and a reply that waited behind it must not count as an outage."""
        for _ in range(2):
            with contextlib.suppress(*UNREACHABLE):
                await self.client.ping()
                break
        else:
            await self._shared(self.client.ping, lambda: True)
        self._watch = asyncio.create_task(self._watch_periodically(), name="redis-watch")

    async def _watch_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.watch_s)
            await self._shared(self.client.ping, lambda: True)

    async def _shared(self, remote: Callable[[], Awaitable[T]], local: Callable[[], T]) -> T:
        if self.degraded_since is None:
            try:
                return await remote()
            except UNREACHABLE as exc:
                self._degrade(exc)
        return local()

    def _degrade(self, exc: BaseException) -> None:
        if self.degraded_since is None:
            self.degraded_since = time.monotonic()
            self.outages += 1
            log.warning("Redis cannot be reached (%s): leases and limits are this replica's own until it is back",
                        type(exc).__name__)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_until_back(), name="redis-probe")

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(self.probe_s)
            try:
                await self.client.ping()
            except UNREACHABLE:
                continue
            log.warning("Redis is reachable again after %.1f s: leases and limits are shared again",
                        time.monotonic() - (self.degraded_since or time.monotonic()))
            self.degraded_since = None
            return

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}lease:{key}", f"{self.prefix}fence:{key}"]

    # leases
    async def acquire(self, key: str, owner: str, ttl_s: float) -> Lease | None:
        async def remote() -> Lease | None:
            token = await self._acquire(keys=self._keys(key), args=[owner, int(ttl_s * 1000)])
            return Lease(key, owner, int(token), ttl_s, "redis") if token else None

        return await self._shared(remote, lambda: self.local.acquire_now(key, owner, ttl_s))

    async def renew(self, lease: Lease) -> Lease | None:
        if lease.backend == "local":  # taken while degraded: once Redis is back, it must be won there
            return await self._shared(lambda: self.acquire(lease.key, lease.owner, lease.ttl_s),
                                      lambda: self.local.renew_now(lease))

        async def remote() -> Lease | None:
            args = [f"{lease.token}|{lease.owner}", lease.token, int(lease.ttl_s * 1000)]
            return lease if await self._renew(keys=self._keys(lease.key), args=args) else None

        return await self._shared(remote, lambda: self.local.renew_now(lease))

    async def release(self, lease: Lease) -> None:
        if lease.backend == "local":
            self.local.release_now(lease)
            return

        async def remote() -> None:
            await self._release(keys=self._keys(lease.key)[:1], args=[f"{lease.token}|{lease.owner}"])

        await self._shared(remote, lambda: None)

    async def holds(self, lease: Lease) -> bool:
        if lease.backend == "local":
            return self.local.holds_now(lease)

        async def remote() -> bool:
            return await self.client.get(self._keys(lease.key)[0]) == f"{lease.token}|{lease.owner}"

        return await self._shared(remote, lambda: self.local.holds_now(lease))

    # rate counting
    async def allow(self, key: str, limit: int, window_s: float) -> Allowance:
        async def remote() -> Allowance:
            allowed, count, wait_ms = await self._allow(keys=[f"{self.prefix}count:{key}"],
                                                        args=[limit, int(window_s * 1000), uuid.uuid4().hex[:12]])
            return Allowance(bool(allowed), int(count), int(wait_ms) / 1000)

        return await self._shared(remote, lambda: self.local.allow_now(key, limit, window_s))

    # notices: Redis pub/sub while reachable, this replica's own subscribers while degraded
    async def notify(self, channel: str, message: Record) -> None:
        async def remote() -> None:
            await self.client.publish(f"{self.prefix}notify:{channel}", json.dumps(message))

        await self._shared(remote, lambda: self.local.notify_now(channel, message))

    async def subscribers(self, channel: str) -> int:
        async def remote() -> int:
            counts = await self.client.pubsub_numsub(f"{self.prefix}notify:{channel}")
            return int(counts[0][1]) if counts else 0

        return await self._shared(remote, lambda: self.local.subscribed(channel))

    async def subscribe(self, channel: str) -> AsyncIterator[Record]:
        queue: asyncio.Queue[Record] = asyncio.Queue()
        feeds = [asyncio.create_task(self._feed_local(channel, queue)),
                 asyncio.create_task(self._feed_redis(channel, queue))]
        try:
            while True:
                yield await queue.get()
        finally:
            for feed in feeds:
                feed.cancel()

    async def _feed_local(self, channel: str, queue: asyncio.Queue[Record]) -> None:
        async for message in self.local.subscribe(channel):
            queue.put_nowait(message)

    async def _feed_redis(self, channel: str, queue: asyncio.Queue[Record]) -> None:
        """Subscribed again after every outage (a restarted Redis forgets its subscribers)."""
        while True:
            if self.degraded_since is not None:
                await asyncio.sleep(self.probe_s / 2)
                continue
            pubsub = self._blocking.pubsub()
            try:
                await pubsub.subscribe(f"{self.prefix}notify:{channel}")
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=BLOCK_MS / 1000)
                    if message is not None:
                        queue.put_nowait(json.loads(message["data"]))
            except UNREACHABLE as exc:
                self._degrade(exc)
            finally:
                await pubsub.aclose()

    # values kept for a while (JSON strings with PX)
    async def remember(self, key: str, value: Record, ttl_s: float) -> None:
        async def remote() -> None:
            await self.client.set(f"{self.prefix}value:{key}", json.dumps(value), px=max(1, int(ttl_s * 1000)))

        await self._shared(remote, lambda: self.local.remember_now(key, value, ttl_s))

    async def recall(self, key: str) -> Record | None:
        async def remote() -> Record | None:
            kept = await self.client.get(f"{self.prefix}value:{key}")
            return json.loads(kept) if kept is not None else None

        return await self._shared(remote, lambda: self.local.recall_now(key))

    async def forget(self, key: str, value: Record | None = None) -> None:
        name = f"{self.prefix}value:{key}"

        async def remote() -> None:
            if value is None:
                await self.client.delete(name)
            else:  # the same compare-and-delete as a lease's release
                await self._release(keys=[name], args=[json.dumps(value)])

        await self._shared(remote, lambda: self.local.forget_now(key, value))

    # live-reply streams: a bounded Redis Stream per conversation, expiring when nobody writes to it
    async def publish(self, conversation: str, record: Record) -> str:
        async def remote() -> str:
            async with self.client.pipeline(transaction=False) as pipe:
                self._append(pipe, conversation, record)
                entry_id, _ = await pipe.execute()
            return str(entry_id)

        return await self._shared(remote, lambda: self.local.publish_now(conversation, record))

    async def publish_many(self, entries: Sequence[tuple[str, Record]]) -> None:
        async def remote() -> None:
            async with self.client.pipeline(transaction=False) as pipe:
                for conversation, record in entries:
                    self._append(pipe, conversation, record, expire=False)
                for conversation in {conversation for conversation, _ in entries}:  # once per stream
                    pipe.expire(f"{self.prefix}reply:{conversation}", int(STREAM_TTL_S))
                await pipe.execute()

        def local() -> None:
            for conversation, record in entries:
                self.local.publish_now(conversation, record)

        await self._shared(remote, local)

    def _append(self, pipe: Pipeline, conversation: str, record: Record, expire: bool = True) -> None:
        key = f"{self.prefix}reply:{conversation}"
        pipe.xadd(key, {"r": json.dumps(record)}, maxlen=STREAM_MAXLEN, approximate=True)
        if expire:
            pipe.expire(key, int(STREAM_TTL_S))

    async def follow(self, conversation: str, from_id: str = "0",
                     idle_s: float = 60.0) -> AsyncIterator[tuple[str, Record]]:
        key, last = f"{self.prefix}reply:{conversation}", from_id
        quiet_until = time.monotonic() + idle_s
        while time.monotonic() < quiet_until:
            if self.degraded_since is not None:  # nothing shared to read; wait for Redis or the idle time
                await asyncio.sleep(min(self.probe_s, max(0.0, quiet_until - time.monotonic())))
                continue
            try:
                block = max(1, min(BLOCK_MS, int((quiet_until - time.monotonic()) * 1000)))
                reply = await self._blocking.xread({key: last}, count=1_000, block=block)
            except UNREACHABLE as exc:
                self._degrade(exc)
                continue
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    last, record = entry_id, json.loads(fields["r"])
                    yield entry_id, record
                    if record.get("type") in END_TYPES:
                        return
                quiet_until = time.monotonic() + idle_s

    async def aclose(self) -> None:
        for task in (self._probe, self._watch):
            if task is not None:
                task.cancel()
        await self.client.aclose()
        await self._blocking.aclose()
