"""How often streaming replies update the page (galaxy_chat/ui/stream_pacing.py), on a simulated clock.

`play` follows the rule StreamingMarkdown.append applies to each token: update now when the pacer says 0,
otherwise book one timer for the reply (a token arriving meanwhile goes with it, or earlier if the pacer
then says 0).
"""

from __future__ import annotations

import itertools
import random

from galaxy_chat.ui.stream_pacing import FRAME_S, RENDER_SHARE, SLACK_S, UPDATES_PER_S, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def play(arrivals: list[tuple[float, int]], render_s: float = 0.0) -> tuple[list[float], list[tuple[float, int]]]:
    """Every token's wait (s) and every update (time, reply) for tokens arriving at (time, reply)."""
    clock = Clock()
    pacer = Pacer(clock)
    last: dict[int, float] = {}
    timers: dict[int, float] = {}
    waiting: dict[int, list[float]] = {}
    waits: list[float] = []
    updates: list[tuple[float, int]] = []

    def update(at: float, reply: int) -> None:
        waits.extend(at - came for came in waiting.pop(reply, []))
        timers.pop(reply, None)
        last[reply] = at
        updates.append((at, reply))

    for at, reply in sorted(arrivals):
        for due, other in sorted((due, other) for other, due in timers.items() if due <= at):
            update(due, other)
        clock.now = at
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


def test_five_replies_at_once_keep_the_update_budget_and_no_token_waits_a_whole_interval() -> None:
    # Five replies, a token every 20 ms each, arriving at the same moments (give or take 3 ms): the interval
    # is 40 ms, so every other token waits for the next. None may miss that update by a hair and wait a
    # whole interval (40 ms) for the one after.
    waits, updates = play(steady(5, 300, 0.02, jitter_s=0.003))
    assert max(waits) <= 0.02 + SLACK_S + 0.003
    seconds = 300 * 0.02
    assert len(updates) / seconds <= UPDATES_PER_S * 1.05
    assert sorted(waits)[len(waits) // 2] <= 0.02


def test_a_reply_at_full_speed_is_sent_in_batches_about_a_frame_apart() -> None:
    waits, updates = play(steady(1, 2000, 0.0005))
    assert min(gaps(updates)) >= FRAME_S - 1e-9
    assert len(updates) < 2000 / 20
    assert max(waits) <= FRAME_S + 2 * SLACK_S + 1e-9


def test_a_reply_whose_tail_is_dear_to_render_updates_less_often() -> None:
    _, updates = play(steady(1, 400, 0.005), render_s=0.01)  # 10 ms per render of the open tail
    assert min(gaps(updates)) >= RENDER_SHARE * 0.01 - SLACK_S - 1e-9
