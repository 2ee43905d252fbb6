"""Reading a model's stream under load: in batches, on a beat shared by every reply.

Every wake-up of the event loop costs the same fixed work (and on a virtual machine, waking an idle core
is dear), however little it brings. One reply streaming wakes the process once per token; twenty replies at
50 tokens/s each would wake it a thousand times a second. So from BATCH_FROM replies streaming at once,
a reply that had to wait for the network rests before its next read, until the next tick of a beat that
every reply shares: the tokens that arrive meanwhile wait in the socket, and at the tick every reply reads
what it has, in one wake-up. Pages update at most every 100 ms by then anyway (ui/stream_pacing.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

T = TypeVar("T")

BATCH_FROM = 8  # replies streaming at once from which each reads its model's stream in batches
BATCH_S_PER_REPLY = 0.005  # the beat's period per reply streaming: 20 replies, 100 ms
BATCH_MAX_S = 0.1
BUFFERED_S = 0.001  # an item that took longer than this came from the network, not from a buffer


def read_pause_s(replies: int) -> float:
    """The beat's period while `replies` stream at once (0: read as soon as data arrives)."""
    return 0.0 if replies < BATCH_FROM else min(BATCH_MAX_S, replies * BATCH_S_PER_REPLY)


async def pump(stream: AsyncIterator[T], put: Callable[[T], None], replies: Callable[[], int]) -> None:
    """`put` every item of `stream`; under load, rest until the next beat after each read from the network
    (items already buffered are taken at once, so a batch is drained in one go)."""
    waited_from = time.monotonic()
    async for item in stream:
        put(item)
        now = time.monotonic()
        period = read_pause_s(replies())
        if period and now - waited_from > BUFFERED_S:
            await asyncio.sleep(period - now % period)  # to the next multiple of the period: a shared beat
            now = time.monotonic()
        waited_from = now
