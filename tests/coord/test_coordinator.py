"""The Coordinator's promises, held alike by the in-process one and by Redis shared by two replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from galaxy_chat.coord import Coordinator
from galaxy_chat.coord.holder import HeldLease

Pair = tuple[Coordinator, Coordinator]


async def test_a_lease_is_held_by_one_replica_until_released(replicas: Pair) -> None:
    a, b = replicas
    first = await a.acquire("reply:ann@example.com", "replica-a", ttl_s=5)
    assert first is not None
    assert await b.acquire("reply:ann@example.com", "replica-b", ttl_s=5) is None
    assert await a.renew(first) == first
    await a.release(first)
    second = await b.acquire("reply:ann@example.com", "replica-b", ttl_s=5)
    assert second is not None and second.token > first.token
    assert await b.acquire("reply:bob@example.com", "replica-b", ttl_s=5) is not None  # per key


async def test_a_paused_holder_loses_to_a_new_one_and_cannot_renew(replicas: Pair) -> None:
    a, b = replicas
    paused = await a.acquire("reply:ann@example.com", "replica-a", ttl_s=0.2)
    assert paused is not None
    await asyncio.sleep(0.3)  # the holder stalls past its lease (a long GC pause, a frozen VM)
    taker = await b.acquire("reply:ann@example.com", "replica-b", ttl_s=5)
    assert taker is not None and taker.token > paused.token
    assert await a.renew(paused) is None  # its token is stale: it must stop writing
    assert not await a.holds(paused)
    assert await b.holds(taker)
    await a.release(paused)  # giving back a lost lease does not free the new holder's
    assert await b.holds(taker)


async def test_an_expired_lease_nobody_took_renews(replicas: Pair) -> None:
    a, _ = replicas
    lease = await a.acquire("reply:ann@example.com", "replica-a", ttl_s=0.1)
    assert lease is not None
    await asyncio.sleep(0.2)
    assert await a.renew(lease) == lease


async def test_a_limit_counts_across_replicas_in_a_sliding_window(replicas: Pair) -> None:
    a, b = replicas
    answers = [await c.allow("rate:ann@example.com", 3, 0.5) for c in (a, b, a)]
    assert [x.allowed for x in answers] == [True, True, True] and answers[-1].count == 3
    refused = await b.allow("rate:ann@example.com", 3, 0.5)
    assert not refused.allowed and 0 < refused.retry_after_s <= 0.5
    assert (await a.allow("rate:bob@example.com", 3, 0.5)).allowed  # per key
    await asyncio.sleep(refused.retry_after_s + 0.05)
    assert (await b.allow("rate:ann@example.com", 3, 0.5)).allowed


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_notice_reaches_a_subscriber_on_the_other_replica(replicas: Pair) -> None:
    a, b = replicas
    moved = b.subscribe("moved:ann@example.com")
    received = asyncio.create_task(anext(moved))
    await until(lambda: listening(a, 1))
    await a.notify("moved:ann@example.com", {"to": "tab-2"})
    assert await asyncio.wait_for(received, 5) == {"to": "tab-2"}
    await moved.aclose()
    await until(lambda: listening(a, 0))


async def listening(coordinator: Coordinator, expected: int) -> bool:
    return await coordinator.subscribers("moved:ann@example.com") == expected


async def test_following_a_reply_from_the_middle_loses_and_doubles_nothing(replicas: Pair) -> None:
    writer, reader = replicas
    ids = [await writer.publish("c1", {"type": "text_delta", "text": f"t{n}"}) for n in range(5)]
    seen: list[str] = []

    async def follow() -> None:
        async for _, record in reader.follow("c1", from_id=ids[1]):
            seen.append(record.get("text", record["type"]))

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)  # the follower has read the backlog and waits for more
    for n in range(5, 10):
        await writer.publish("c1", {"type": "text_delta", "text": f"t{n}"})
    await writer.publish("c1", {"type": "done"})
    await asyncio.wait_for(follower, 5)
    assert seen == [f"t{n}" for n in range(2, 10)] + ["done"]
    everything = [record async for _, record in reader.follow("c1")]
    assert len(everything) == 11 and everything[0]["text"] == "t0"


async def test_a_follower_stops_when_the_writer_goes_quiet(replicas: Pair) -> None:
    writer, reader = replicas
    await writer.publish("c2", {"type": "text_delta", "text": "half a reply"})
    started = time.monotonic()
    records = [record async for _, record in reader.follow("c2", idle_s=0.3)]
    assert records == [{"type": "text_delta", "text": "half a reply"}]
    assert 0.25 < time.monotonic() - started < 3


async def test_state_for_ready(replicas: Pair) -> None:
    a, _ = replicas
    state = a.state()
    assert state["ok"] and state["degraded"] is None and state["backend"] in {"local", "redis"}


async def test_a_held_lease_outlives_its_ttl_while_the_work_runs(replicas: Pair) -> None:
    a, b = replicas
    held = await HeldLease.take(a, "run:ann@example.com", ttl_s=0.3)
    assert held is not None
    await asyncio.sleep(1.0)  # three ttls: renewed in the background meanwhile
    assert not held.lost and await b.acquire("run:ann@example.com", "replica-b", ttl_s=5) is None
    assert await HeldLease.take(b, "run:ann@example.com", ttl_s=0.3) is None
    await held.release()
    assert held.lost and await b.acquire("run:ann@example.com", "replica-b", ttl_s=5) is not None


async def test_a_value_is_seen_by_the_other_replica_until_it_expires_or_is_forgotten(replicas: Pair) -> None:
    a, b = replicas
    await a.remember("live:ann@example.com", {"conversation": "c1"}, ttl_s=0.3)
    assert await b.recall("live:ann@example.com") == {"conversation": "c1"}
    await b.forget("live:ann@example.com", {"conversation": "someone else's"})  # replaced meanwhile: kept
    assert await a.recall("live:ann@example.com") == {"conversation": "c1"}
    await asyncio.sleep(0.4)
    assert await b.recall("live:ann@example.com") is None
    await a.remember("live:ann@example.com", {"conversation": "c2"}, ttl_s=5)
    await b.forget("live:ann@example.com", {"conversation": "c2"})
    assert await a.recall("live:ann@example.com") is None


async def test_records_published_together_arrive_in_order_on_each_stream(replicas: Pair) -> None:
    writer, reader = replicas
    await writer.publish_many([("s1", {"type": "text_delta", "text": "a"}), ("s2", {"type": "done"}),
                               ("s1", {"type": "text_delta", "text": "b"}), ("s1", {"type": "done"})])
    assert [r.get("text", r["type"]) async for _, r in reader.follow("s1")] == ["a", "b", "done"]
    assert [r["type"] async for _, r in reader.follow("s2")] == ["done"]
