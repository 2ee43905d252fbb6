"""Fixtures of the coordination tests: a real redis-server, and "two replicas" of each implementation."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from galaxy_chat.coord import Coordinator, LocalCoordinator, RedisCoordinator
from galaxy_chat.testing.redis_server import RedisServer, find_redis_server


def redis_or_skip() -> RedisServer:
    if find_redis_server() is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (apt-get install redis-server): CI must run these tests")
        pytest.skip("redis-server is not installed here")
    return RedisServer()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the run; each test works under a prefix of its own."""
    server = redis_or_skip().start()
    yield server
    server.cleanup()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own: it is killed and started again."""
    server = redis_or_skip().start()
    yield server
    server.cleanup()


@pytest.fixture(params=["local", "redis"])
async def replicas(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Coordinator, Coordinator]]:
    """Two replicas' coordinators: the in-process one is one replica's (the same object twice); the Redis
    ones are two clients of one real Redis, as two app processes would be."""
    if request.param == "local":
        local = LocalCoordinator()
        yield local, local
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    pair = (RedisCoordinator(server.url, prefix=prefix), RedisCoordinator(server.url, prefix=prefix))
    for coordinator in pair:
        await coordinator.start()
    yield pair
    for coordinator in pair:
        await coordinator.aclose()
