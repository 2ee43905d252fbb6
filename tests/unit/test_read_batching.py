"""In a busy process, replies read their model's stream in batches on a shared beat; alone, or with CPU to spare,
token by token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from itertools import pairwise

from galaxy_chat.core.loop_load import WINDOW_S, LoopLoad
from galaxy_chat.core.read_batching import BATCH_FROM, BATCH_MAX_S, pump, read_pause_s
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text
from galaxy_chat.vocabulary.events import TextDelta
from tests.engine_helpers import MODEL

TOKENS = 30
GAP_S = 0.01  # the scripted model writes a token every 10 ms


def paced_reply(name: str, tokens: int = TOKENS) -> Reply:
    pieces = [f"{name}-{index} " for index in range(tokens)]
    chunks = openai_text(*pieces)
    paced: list[bytes | float] = chunks[:1]
    for chunk in chunks[1:tokens + 1]:
        paced += [GAP_S, chunk]
    return Reply(200, paced + chunks[tokens + 1:])


async def arrivals(rig, name: str) -> tuple[str, list[float]]:
    """The reply's whole text, and when each piece reached the engine's consumer."""
    text, times = "", []
    async for event in rig.engine.respond(rig.conversation(f"{name}@example.com"), "Go", MODEL):
        if isinstance(event, TextDelta):
            text += event.text
            times.append(time.monotonic())
    return text, times


def bursts(times: list[float]) -> int:
    """How many separate moments the pieces came at (pieces less than 3 ms apart count as one)."""
    return 1 + sum(1 for before, after in pairwise(times) if after - before > 0.003)


@contextmanager
def busy_loop() -> Iterator[None]:
    """Other work on this event loop: a callback that takes 12 ms every 25 ms, so timers run late."""
    loop = asyncio.get_running_loop()
    handle: asyncio.TimerHandle | None = None

    def hog() -> None:
        nonlocal handle
        time.sleep(0.012)  # stands for work the loop does for other people
        handle = loop.call_later(0.013, hog)

    handle = loop.call_later(0, hog)
    try:
        yield
    finally:
        assert handle is not None
        handle.cancel()


def test_the_beat_needs_both_many_replies_and_a_busy_process_and_is_capped() -> None:
    assert read_pause_s(BATCH_FROM - 1, 3.0) == 0.0
    assert read_pause_s(200, 0.99) == 0.0  # CPU to spare: every token as it comes
    assert 0 < read_pause_s(BATCH_FROM, 1.0) < read_pause_s(BATCH_FROM, 2.0) <= BATCH_MAX_S
    assert read_pause_s(200, 100.0) == BATCH_MAX_S


async def test_a_reply_alone_gets_every_token_as_it_comes(make) -> None:
    rig = make()
    rig.server.script(paced_reply("solo"))
    text, times = await arrivals(rig, "solo")
    assert text == "".join(f"solo-{index} " for index in range(TOKENS))
    assert bursts(times) >= TOKENS - 3  # no batching: a page can show each token as it is written


async def test_many_replies_in_a_busy_loop_lose_nothing_and_are_not_slowed(make) -> None:
    rig = make()
    names = [f"r{number}" for number in range(12)]
    tokens = 100  # one second: the load is measured over a quarter of a second before batching begins
    for name in names:
        rig.server.script(paced_reply(name, tokens))
    started = time.monotonic()
    with busy_loop():
        results = await asyncio.gather(*(arrivals(rig, name) for name in names))
    elapsed = time.monotonic() - started
    for name, (text, _) in zip(names, results, strict=True):
        assert text == "".join(f"{name}-{index} " for index in range(tokens)), name
    # Resting between reads does not slow a reply down beyond one beat or so (the other work holds the loop
    # half the time, which alone would make it take up to twice as long).
    assert elapsed < 2 * tokens * GAP_S + 2 * BATCH_MAX_S + 0.5


class FullCore:
    """A process clock that says the process used all of its core (so the load reads as busy)."""

    def __call__(self) -> float:
        return time.monotonic()


class IdleCore:
    """A process clock that says the process used none of its core."""

    def __call__(self) -> float:
        return 0.0


async def network(count: int, gap_s: float) -> AsyncIterator[str]:
    """Pieces written every `gap_s` into a buffer, as a socket holds them until they are read."""
    buffer: asyncio.Queue[str] = asyncio.Queue()

    async def write() -> None:
        for index in range(count):
            await asyncio.sleep(gap_s)
            buffer.put_nowait(f"p{index}")

    writer = asyncio.create_task(write())
    for _ in range(count):
        yield await buffer.get()
    await writer


async def test_replies_in_a_busy_process_read_what_arrived_in_batches() -> None:
    load = LoopLoad(cpu=FullCore())
    count, times, got = 200, [], []  # 200 tokens/s

    def put(piece: str) -> None:
        got.append(piece)
        times.append(time.monotonic())

    await pump(network(count, 0.005), put, lambda: 12, load)
    assert got == [f"p{index}" for index in range(count)]
    # The first quarter second measures the load; from then on, several pieces per wake-up, not one by one.
    late = [t for t in times if t - times[0] > 2 * WINDOW_S]
    assert bursts(late) <= len(late) * 0.5


async def test_replies_with_cpu_to_spare_read_every_piece_as_it_comes() -> None:
    times: list[float] = []
    load = LoopLoad(cpu=IdleCore(), late_s=float("inf"))  # other work on this machine must not count here
    await pump(network(60, GAP_S), lambda _: times.append(time.monotonic()), lambda: 12, load)
    assert bursts(times) >= 60 - 3
