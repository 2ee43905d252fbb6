"""Reading a model's stream under load: in batches, on a beat shared by every reply.

Every wake-up of the event loop costs the same fixed work (and on a virtual machine, waking an idle core
is dear), however little it brings. One reply streaming wakes the process once per token; two hundred replies
at 50 tokens/s each would wake it ten thousand times a second. So while the process is busy
(core/loop_load.py: at least BATCH_BUSY of its core, or its timers late) and at least BATCH_FROM replies
stream, a reply that had to wait for the network rests before its next read until the next tick of a beat
that every reply shares: the tokens that arrive meanwhile wait in the socket, and at the tick every reply
reads what it has, in one wake-up. The beat lengthens with the load, from a frame (pages update at most that
often anyway) to BATCH_MAX_S. With CPU to spare, every reply reads its tokens as they come.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from galaxy_chat.core.loop_load import LOAD, LoopLoad

T = TypeVar("T")

BATCH_FROM = 8  # replies streaming at once from which each may read its model's stream in batches
BATCH_BUSY = 0.5  # share of a core the process uses from which reads are batched (or its timers run late)
BATCH_MIN_S = 0.016  # the beat at BATCH_BUSY (a frame: pages update at most that often anyway)
BATCH_MAX_S = 0.04  # the beat grows with the load up to this (the lag target is 50 ms)
BUFFERED_S = 0.001  # an item that took longer than this came from the network, not from a buffer


def read_pause_s(replies: int, over: float) -> float:
    """The beat's period while `replies` stream at once and the process is `over` its means (LoopLoad.over at
    BATCH_BUSY; 0: read as soon as data arrives)."""
    if replies < BATCH_FROM or over < 1:
        return 0.0
    return min(BATCH_MAX_S, BATCH_MIN_S * over)


async def pump(stream: AsyncIterator[T], put: Callable[[T], None], replies: Callable[[], int],
               load: LoopLoad = LOAD) -> None:
    """`put` every item of `stream`; under load, rest until the next beat after each read from the network
    (items already buffered are taken at once, so a batch is drained in one go)."""
    waited_from = time.monotonic()
    async for item in stream:
        put(item)
        now = time.monotonic()
        if now - waited_from > BUFFERED_S:
            load.sample(now)
            if period := read_pause_s(replies(), load.over(BATCH_BUSY)):
                await asyncio.sleep(period - now % period)  # to the next multiple of the period: a shared beat
                now = time.monotonic()
        waited_from = now
