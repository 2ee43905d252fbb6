"""How often a streaming reply updates the page.

Once per frame (16 ms) while few replies stream, so text is painted as it arrives. The server's and each
browser's work per update is fixed, so as more replies stream at once the interval widens to keep the
process at about UPDATES_PER_S updates in total (4 replies: 32 ms, 6: 48 ms), capped at MAX_S. And a reply
whose open tail is dear to render waits RENDER_SHARE times its render time, so one huge open block cannot
take over the process.
"""

from __future__ import annotations

import time

FRAME_S = 0.016
MAX_S = 0.1
UPDATES_PER_S = 125
RENDER_SHARE = 10
ACTIVE_WITHIN_S = 1.0  # a reply counts as streaming if it had text this recently


class Pacer:
    def __init__(self) -> None:
        self.seen: dict[int, float] = {}  # stream id -> when it last had text
        self.counted_at = 0.0

    def interval(self, stream: int, render_s: float) -> float:
        now = time.monotonic()
        self.seen[stream] = now
        if now - self.counted_at > 0.25:  # forget streams that ended (or whose page went away)
            self.seen = {key: at for key, at in self.seen.items() if now - at < ACTIVE_WITHIN_S}
            self.counted_at = now
        shared = min(MAX_S, max(FRAME_S, len(self.seen) / UPDATES_PER_S))
        return max(shared, RENDER_SHARE * render_s)


PACER = Pacer()  # one per process: the updates of all pages share it
