"""Redis going away and coming back: replicas degrade to their own limits and leases, say so, and recover."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from galaxy_chat.coord import RedisCoordinator
from galaxy_chat.testing.redis_server import RedisServer


@pytest.fixture
async def pair(own_redis: RedisServer) -> AsyncIterator[tuple[RedisCoordinator, RedisCoordinator]]:
    coordinators = (RedisCoordinator(own_redis.url, probe_s=0.1), RedisCoordinator(own_redis.url, probe_s=0.1))
    for coordinator in coordinators:
        await coordinator.start()
    yield coordinators
    for coordinator in coordinators:
        await coordinator.aclose()


async def recovered(coordinator: RedisCoordinator, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while coordinator.state()["degraded"] is not None:
        assert time.monotonic() < deadline, "the coordinator did not notice Redis is back"
        await asyncio.sleep(0.05)


async def test_limits_hold_per_replica_while_redis_is_down_and_are_shared_again_after(
        own_redis: RedisServer, pair: tuple[RedisCoordinator, RedisCoordinator]) -> None:
    a, b = pair
    assert (await a.allow("rate:ann", 2, 60)).allowed
    own_redis.stop()
    started = time.monotonic()
    assert (await a.allow("rate:ann", 2, 60)).allowed  # counted locally from now on: no error for the person
    assert time.monotonic() - started < 2  # the outage is noticed within the socket timeout
    assert a.state()["degraded"] == "redis" and a.state()["ok"]
    assert (await a.allow("rate:ann", 2, 60)).allowed
    assert not (await a.allow("rate:ann", 2, 60)).allowed  # each replica still enforces the limit itself
    assert (await b.allow("rate:ann", 2, 60)).allowed  # ...but not across replicas while Redis is down
    own_redis.start()  # a Redis that lost everything (nothing is saved)
    await recovered(a)
    await recovered(b)
    assert [(await c.allow("rate:ann", 2, 60)).allowed for c in (a, b, a)] == [True, True, False]


async def test_leases_recover_after_a_restart_with_fencing_intact(
        own_redis: RedisServer, pair: tuple[RedisCoordinator, RedisCoordinator]) -> None:
    a, b = pair
    before = await a.acquire("reply:ann", "a", ttl_s=5)
    assert before is not None and before.backend == "redis"
    own_redis.stop()
    during = await b.acquire("reply:bob", "b", ttl_s=5)
    assert during is not None and during.backend == "local"  # a degraded replica still serializes its own
    assert await b.acquire("reply:bob", "b2", ttl_s=5) is None
    assert await a.renew(before) == before  # kept locally while Redis is away
    own_redis.start()
    await recovered(a)
    await recovered(b)
    moved = await b.renew(during)  # a lease taken while degraded must be won in Redis again
    assert moved is not None and moved.backend == "redis" and moved.token > during.token
    assert await a.acquire("reply:bob", "a", ttl_s=5) is None
    assert await a.renew(before) == before  # Redis forgot it, but nobody took it since: the holder goes on
    assert await b.acquire("reply:ann", "b", ttl_s=5) is None
    await a.release(before)
    after = await b.acquire("reply:ann", "b", ttl_s=5)
    assert after is not None and after.token > before.token  # tokens still grow across the restart


async def test_a_notice_subscription_survives_a_restart(
        own_redis: RedisServer, pair: tuple[RedisCoordinator, RedisCoordinator]) -> None:
    a, b = pair
    notices = b.subscribe("moved:ann")
    first = asyncio.create_task(anext(notices))
    own_redis.stop()
    await asyncio.sleep(0.3)
    own_redis.start()
    deadline = time.monotonic() + 10
    while await a.subscribers("moved:ann") < 1:  # subscribed again by itself
        assert time.monotonic() < deadline, "the subscription did not come back"
        await asyncio.sleep(0.05)
    await a.notify("moved:ann", {"to": "tab-3"})
    assert await asyncio.wait_for(first, 5) == {"to": "tab-3"}
    await notices.aclose()
