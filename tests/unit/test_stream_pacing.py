"""How often streaming replies update the page (galaxy_chat/ui/stream_pacing.py), on a simulated clock.

`play` follows the rule StreamingMarkdown.append applies to each token: update now when the pacer says 0,
otherwise book one timer for the reply (a token arriving meanwhile goes with it, or earlier if the pacer
then says 0). The process's CPU clock is simulated too: each token and each update cost what the test says.
"""

from __future__ import annotations

import itertools
import random

from galaxy_chat.core.loop_load import WINDOW_S, LoopLoad
from galaxy_chat.ui.stream_pacing import (
    BUSY_SHARE,
    CALM_S,
    CALM_UPDATES_PER_S,
    FRAME_S,
    MAX_S,
    RENDER_SHARE,
    SLACK_S,
    Pacer,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cpu:
    """The process's CPU seconds: what its tokens and updates cost."""

    def __init__(self) -> None:
        self.used = 0.0

    def __call__(self) -> float:
        return self.used


def play(arrivals: list[tuple[float, int]], render_s: float = 0.0, token_cost: float = 0.0,
         update_cost: float = 0.0) -> tuple[list[float], list[tuple[float, int]]]:
    """Every token's wait (s) and every update (time, reply) for tokens arriving at (time, reply)."""
    clock, cpu = Clock(), Cpu()
    pacer = Pacer(clock, LoopLoad(clock, cpu))
    last: dict[int, float] = {}
    timers: dict[int, float] = {}
    waiting: dict[int, list[float]] = {}
    waits: list[float] = []
    updates: list[tuple[float, int]] = []

    def update(at: float, reply: int) -> None:
        cpu.used += update_cost
        waits.extend(at - came for came in waiting.pop(reply, []))
        timers.pop(reply, None)
        last[reply] = at
        updates.append((at, reply))

    for at, reply in sorted(arrivals):
        for due, other in sorted((due, other) for other, due in timers.items() if due <= at):
            update(due, other)
        clock.now = at
        cpu.used += token_cost
        waiting.setdefault(reply, []).append(at)
        delay = pacer.delay(reply, last.get(reply, -1.0), render_s)
        if delay <= 0:
            update(at, reply)
        elif reply not in timers:
            timers[reply] = at + delay
    for due, other in sorted((due, other) for other, due in timers.items()):
        update(due, other)
    return waits, updates


def steady(replies: int, tokens: int, every_s: float, jitter_s: float = 0.0, seed: int = 1) -> list[tuple[float, int]]:
    """Replies started together, each getting a token every `every_s`, up to `jitter_s` late."""
    rng = random.Random(seed)
    return [(1000 + k * every_s + rng.uniform(0, jitter_s), reply) for reply in range(replies) for k in range(tokens)]


def gaps(updates: list[tuple[float, int]]) -> list[float]:
    """Time between one update and the next, leaving out the first and the last (the reply's start and end)."""
    return [later - earlier for (earlier, _), (later, _) in itertools.pairwise(updates)][1:-1]


def test_one_reply_at_50_tokens_a_second_shows_every_token_as_it_comes() -> None:
    waits, updates = play(steady(1, 300, 0.02, jitter_s=0.002))
    assert max(waits) == 0
    assert len(updates) == 300


def busy_share(updates: list[tuple[float, int]], arrivals: list[tuple[float, int]], token_cost: float,
               update_cost: float, after_s: float) -> float:
    """The share of a core the simulated process used from `after_s` into the replies to their end."""
    start = min(at for at, _ in arrivals) + after_s
    end = max(at for at, _ in arrivals)
    used = token_cost * sum(start <= at <= end for at, _ in arrivals)
    used += update_cost * sum(start <= at <= end for at, _ in updates)
    return used / (end - start)


def test_with_cpu_to_spare_few_replies_update_every_frame_and_many_share_updates_within_the_lag_target() -> None:
    # Two replies at 50 tokens/s on a process with CPU to spare: every token is its own update.
    two = steady(2, 300, 0.02, jitter_s=0.002)
    waits, updates = play(two, token_cost=50e-6, update_cost=100e-6)
    assert len(updates) == len(two) and max(waits) == 0
    # Forty replies, a third of the core: each token waits at most CALM_S (the lag target holds), and the
    # replies share about CALM_UPDATES_PER_S updates a second no more often than that interval allows.
    forty = steady(40, 300, 0.02, jitter_s=0.002)
    waits, updates = play(forty, token_cost=50e-6, update_cost=100e-6)
    assert max(waits) <= CALM_S + SLACK_S + 1e-9
    per_s = len(updates) / (300 * 0.02)
    assert 40 / (CALM_S + 2 * SLACK_S + 0.02) <= per_s <= 40 / CALM_S + 1
    assert per_s >= CALM_UPDATES_PER_S


def test_a_busy_process_widens_the_interval_until_it_has_cpu_to_spare_again() -> None:
    # The same forty replies, where an update costs 500 us: updating at every token would need 1.1 cores.
    arrivals = steady(40, 300, 0.02, jitter_s=0.002)
    token_cost, update_cost = 50e-6, 500e-6
    waits, updates = play(arrivals, token_cost=token_cost, update_cost=update_cost)
    assert busy_share(updates, arrivals, token_cost, update_cost, after_s=8 * WINDOW_S) <= BUSY_SHARE + 0.1
    assert len(updates) < len(arrivals) * 0.8
    assert max(waits) <= MAX_S + SLACK_S + 1e-9
    # ... and no more than it must: the process is not left idle either.
    assert busy_share(updates, arrivals, token_cost, update_cost, after_s=8 * WINDOW_S) >= BUSY_SHARE - 0.2


def test_replies_waiting_their_turn_do_not_miss_an_update_by_a_hair() -> None:
    # A busy process where the interval settles around two tokens: every other token waits for the next
    # update. None may miss that update by a hair and wait a whole interval for the one after.
    arrivals = steady(10, 300, 0.02, jitter_s=0.003)
    waits, updates = play(arrivals, token_cost=20e-6, update_cost=2.5e-3)
    interval = 10 * 300 * 0.02 / len(updates)
    assert 0.025 < interval < 0.08
    late = sorted(waits)[int(len(waits) * 0.99)]
    assert late <= interval + SLACK_S + 0.003


def test_a_reply_at_full_speed_is_sent_in_batches_about_a_frame_apart() -> None:
    waits, updates = play(steady(1, 2000, 0.0005))
    assert min(gaps(updates)) >= FRAME_S - 1e-9
    assert len(updates) < 2000 / 20
    assert max(waits) <= FRAME_S + 2 * SLACK_S + 1e-9


def test_a_reply_whose_tail_is_dear_to_render_updates_less_often() -> None:
    _, updates = play(steady(1, 400, 0.005), render_s=0.01)  # 10 ms per render of the open tail
    assert min(gaps(updates)) >= RENDER_SHARE * 0.01 - SLACK_S - 1e-9
