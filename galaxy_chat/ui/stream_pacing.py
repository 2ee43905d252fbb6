"""When a streaming reply next updates the page.

At most once per frame (16 ms) per reply, so text is painted as it arrives. With CPU to spare, replies share
CALM_UPDATES_PER_S updates a second but are never more than CALM_S apart: enough for a token lag within 50 ms,
and no more of the server's and the browser's work than that (one browser showing many replies paints them
all). The process-wide budget of updates per second follows what updates measurably cost: each window
(core/loop_load.py) the budget in force is scaled by BUSY_SHARE over the share of its core the process used,
or by how late the loop ran its probe timer against LATE_S if that is worse (at most MAX_STEP up or down per
window). So the process settles at about BUSY_SHARE busy, its timers on time, and leaves the rest for reading
the models' streams, sockets and new pages; with less work than that, every reply updates every frame. As
more replies stream, or the process is busy with other work, a reply's interval widens to its share of that
budget, capped at MAX_S. And a reply whose open tail is dear to render waits RENDER_SHARE times its render
time, so one huge open block cannot take over the process.

Tokens come at a steady beat, and the interval often ends just as the next one is due: text that has to wait
goes out SLACK_S after the interval, and a token arriving from SLACK_S before the interval's end goes out at
once (so a reply alone has an interval of FRAME_S + SLACK_S). Without that, a token that missed the update by
a hair waited a whole interval (five replies at 50 tokens/s each, 40 ms apart: p95 of the wait 43 ms, with
the slack 22).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from galaxy_chat.core.loop_load import LOAD, LoopLoad

FRAME_S = 0.016
CALM_S = 0.035  # with CPU to spare: never wider, which keeps the token lag within 50 ms (p95)
CALM_UPDATES_PER_S = 125  # with CPU to spare, replies share this many updates a second, up to CALM_S apart
MAX_S = 0.1
BUSY_SHARE = 0.7  # of one core: past this the updates' interval widens (the rest: reads, sockets, new pages)
MIN_BUDGET = 50.0  # updates per second the process keeps however busy (MAX_S bounds the interval anyway)
MAX_STEP = 2.0  # the budget changes at most by this factor per window
SLACK_S = 0.004
RENDER_SHARE = 10
ACTIVE_WITHIN_S = 1.0  # a reply counts as streaming if it had text this recently


class Pacer:
    def __init__(self, clock: Callable[[], float] = time.monotonic, load: LoopLoad | None = None) -> None:
        self.clock = clock
        self.load = load or LoopLoad(clock)
        self.budget = float("inf")  # updates per second for the whole process
        self.seen: dict[int, float] = {}  # stream id -> when it last had text
        self.counted_at = 0.0
        self._window = 0

    def delay(self, stream: int, last_update: float, render_s: float) -> float:
        """Seconds until `stream`, which has new text, should update the page (0: now). `last_update` is the
        clock's time of its last update, `render_s` how long its open tail took to render."""
        now = self.clock()
        self.seen[stream] = now
        if now - self.counted_at > 0.25:  # forget streams that ended (or whose page went away)
            self.seen = {key: at for key, at in self.seen.items() if now - at < ACTIVE_WITHIN_S}
            self.counted_at = now
        self._retune(now)
        calm = min(CALM_S, len(self.seen) / CALM_UPDATES_PER_S)  # what the lag target needs, no more
        shared = min(MAX_S, max(FRAME_S + SLACK_S, calm, len(self.seen) / self.budget))
        interval = max(shared, RENDER_SHARE * render_s)
        since = now - last_update
        return 0.0 if since >= interval - SLACK_S else interval + SLACK_S - since

    def _retune(self, now: float) -> None:
        self.load.sample(now)
        if self.load.windows == self._window:
            return
        self._window = self.load.windows
        over = self.load.over(BUSY_SHARE)
        if over <= 0:  # nothing measured (the process was idle): every frame
            self.budget = float("inf")
            return
        streams = max(1, len(self.seen))
        binding = min(self.budget, streams / FRAME_S)  # above this every reply updates every frame anyway
        factor = min(MAX_STEP, max(1 / MAX_STEP, 1 / over))
        self.budget = max(MIN_BUDGET, binding * factor)
        if self.budget >= streams / FRAME_S:
            self.budget = float("inf")


PACER = Pacer(load=LOAD)  # one per process: the updates of all pages share it
