"""A markdown element for text that is still arriving.

Finished blocks are rendered once; only the open tail is rendered again, and only the changed end of it
goes over the WebSocket (a `gc_text` message, see stream_text.js). So the bytes sent grow linearly with the
reply's length. Updates are paced (stream_pacing.py): the first token goes out at once, later ones at most
once per interval, which widens as the process gets busy and as the open tail gets dearer to render.
"""

from __future__ import annotations

import asyncio
import re
import time

from nicegui import __version__, ui

from galaxy_chat.ui.markdown_render import finished_prefix_length, render_markdown, render_tail
from galaxy_chat.ui.nicegui_internals import send_to_page, update_is_queued
from galaxy_chat.ui.stream_pacing import PACER

# Closing tags at the very end of the open tail: the browser closes them itself, and leaving them off makes
# most updates pure appends (the tail's last `</p>` would otherwise be sent again every time).
TRAILING_CLOSERS = re.compile(r"(?:</[a-z0-9]+>\s*)+$")


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search over slice compares, which run in C)."""
    if b.startswith(a):
        return len(a)
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def js_length(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units): offsets in messages are applied in the browser."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


class StreamText(ui.element, component="stream_text.js"):
    """The element: `html` (finished), `tail` (open end) and `seq` (changes so far) props are kept current on
    the server, so any snapshot of it is right. Changes also go as numbered `gc_text` messages; the browser
    skips those its snapshot already holds (NiceGUI serialises a snapshot when it sends it, which may be
    after a change it was queued before)."""

    def __init__(self) -> None:
        super().__init__()
        self._props.update(html="", tail="", seq=0, eid=self.id)

    @property
    def content(self) -> str:
        return str(self._props["html"]) + str(self._props["tail"])

    def show(self, finished: str, tail: str) -> None:
        """Append `finished` to the finished part and make `tail` the open end."""
        sent = str(self._props["tail"])
        combined = finished + tail
        keep = common_prefix(sent, combined)
        if keep == len(sent) == len(combined):
            return
        seq = int(self._props["seq"]) + 1
        with self._props.suspend_updates():  # a props change would send the whole snapshot again
            self._props.update(html=str(self._props["html"]) + finished, tail=tail, seq=seq)
        if update_is_queued(self):
            return  # a snapshot is queued: it will hold this change
        message: dict[str, object] = {"i": self.id, "n": seq, "s": combined[keep:]}
        if keep < len(sent):
            message["k"] = js_length(combined[:keep])
        if finished:
            message["c"] = js_length(finished)
        send_to_page(self, "gc_text", message)


def preload_html(prefix: str) -> str:
    """A head tag that fetches and compiles StreamText's module with the page. Otherwise NiceGUI loads it when
    the first reply starts, and that reply's first update waits for the fetch. `prefix`: what a proxy adds in
    front of the app's paths (the page is at `/` or `/c/<id>`, so the path cannot be relative)."""
    return (f'<link rel="modulepreload" href="{prefix}/_nicegui/{__version__}/components/'
            f'{StreamText.component.key}">')


class StreamingMarkdown:
    def __init__(self) -> None:
        self.text = ""
        self.rendered_upto = 0  # text[:rendered_upto] is in finished blocks
        self.last_flush = 0.0
        self.render_s = 0.0  # how long the open tail took to render last time
        self.timer: asyncio.TimerHandle | None = None
        self.view = StreamText().classes("gc-md w-full")

    def append(self, text: str) -> None:
        self.text += text
        wait = PACER.delay(id(self), self.last_flush, self.render_s)
        if wait <= 0:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self, final: bool = False) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.last_flush = time.monotonic()
        if self.view.is_deleted:  # the page went away while a flush was due
            return
        open_part = self.text[self.rendered_upto:]
        done = len(open_part) if final else finished_prefix_length(open_part)
        finished = render_markdown(open_part[:done]) if done else ""
        self.rendered_upto += done
        started = time.perf_counter()
        tail = TRAILING_CLOSERS.sub("", render_tail(open_part[done:])) if done < len(open_part) else ""
        self.render_s = time.perf_counter() - started
        self.view.show(finished, tail)

    def close(self) -> None:
        """The text is complete: everything left becomes finished blocks (highlighted, closing tags kept)."""
        self.flush(final=True)
