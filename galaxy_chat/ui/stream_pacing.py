"""When a streaming reply next updates the page.

At most once per frame (16 ms) while one reply streams, so text is painted as it arrives. The server's and
each browser's work per update is fixed, so as more replies stream at once the interval widens to keep the
process at about UPDATES_PER_S updates in total (4 replies: 32 ms, 6: 48 ms), capped at MAX_S. And a reply
whose open tail is dear to render waits RENDER_SHARE times its render time, so one huge open block cannot
take over the process.

Tokens come at a steady beat, and the interval often ends just as the next one is due: text that has to wait
goes out SLACK_S after the interval, and a token arriving from SLACK_S before the interval's end goes out at
once (so a reply alone has an interval of FRAME_S + SLACK_S). Without that, a token that missed the update by
a hair waited a whole interval (five replies at 50 tokens/s each: p95 of the wait 43 ms, now 22).
"""

from __future__ import annotations

import time
from collections.abc import Callable

FRAME_S = 0.016
MAX_S = 0.1
UPDATES_PER_S = 125
SLACK_S = 0.004
RENDER_SHARE = 10
ACTIVE_WITHIN_S = 1.0  # a reply counts as streaming if it had text this recently


class Pacer:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.seen: dict[int, float] = {}  # stream id -> when it last had text
        self.counted_at = 0.0

    def delay(self, stream: int, last_update: float, render_s: float) -> float:
        """Seconds until `stream`, which has new text, should update the page (0: now). `last_update` is the
        clock's time of its last update, `render_s` how long its open tail took to render."""
        now = self.clock()
        self.seen[stream] = now
        if now - self.counted_at > 0.25:  # forget streams that ended (or whose page went away)
            self.seen = {key: at for key, at in self.seen.items() if now - at < ACTIVE_WITHIN_S}
            self.counted_at = now
        shared = min(MAX_S, max(FRAME_S + SLACK_S, len(self.seen) / UPDATES_PER_S))
        interval = max(shared, RENDER_SHARE * render_s)
        since = now - last_update
        return 0.0 if since >= interval - SLACK_S else interval + SLACK_S - since


PACER = Pacer()  # one per process: the updates of all pages share it
