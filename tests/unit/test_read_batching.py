"""Under load, replies read their model's stream in batches on a shared beat; alone, token by token."""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise

from galaxy_chat.core.read_batching import BATCH_FROM, read_pause_s
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text
from galaxy_chat.vocabulary.events import TextDelta
from tests.engine_helpers import MODEL

TOKENS = 30
GAP_S = 0.01  # the scripted model writes a token every 10 ms


def paced_reply(name: str) -> Reply:
    pieces = [f"{name}-{index} " for index in range(TOKENS)]
    chunks = openai_text(*pieces)
    paced: list[bytes | float] = chunks[:1]
    for chunk in chunks[1:TOKENS + 1]:
        paced += [GAP_S, chunk]
    return Reply(200, paced + chunks[TOKENS + 1:])


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


def test_the_beat_starts_at_eight_replies_and_is_capped() -> None:
    assert read_pause_s(1) == read_pause_s(BATCH_FROM - 1) == 0.0
    assert read_pause_s(BATCH_FROM) == 0.04
    assert read_pause_s(20) == read_pause_s(200) == 0.1


async def test_a_reply_alone_gets_every_token_as_it_comes(make) -> None:
    rig = make()
    rig.server.script(paced_reply("solo"))
    text, times = await arrivals(rig, "solo")
    assert text == "".join(f"solo-{index} " for index in range(TOKENS))
    assert bursts(times) >= TOKENS - 3  # no batching: a page can show each token as it is written


async def test_many_replies_at_once_read_in_batches_and_lose_nothing(make) -> None:
    rig = make()
    names = [f"r{number}" for number in range(12)]  # 12 replies: a beat of 60 ms
    for name in names:
        rig.server.script(paced_reply(name))
    started = time.monotonic()
    results = await asyncio.gather(*(arrivals(rig, name) for name in names))
    elapsed = time.monotonic() - started
    for name, (text, _) in zip(names, results, strict=True):
        assert text == "".join(f"{name}-{index} " for index in range(TOKENS)), name
    # Fewer wake-ups: each reply's 30 tokens come in a handful of batches, not one by one ...
    assert max(bursts(times) for _, times in results) <= TOKENS // 2
    # ... and resting between reads does not slow a reply down beyond one beat or so.
    assert elapsed < TOKENS * GAP_S + 2 * read_pause_s(len(names)) + 1.0
