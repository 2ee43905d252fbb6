"""A markdown element for text that is still arriving.

Finished blocks are rendered once, each into its own element, and never sent again; only the open tail is
re-rendered, at most every FLUSH_S. So the bytes sent over the WebSocket grow linearly with the reply's
length, and the first token is painted at once (no wait for a batch when nothing was sent recently).
"""

from __future__ import annotations

import asyncio
import time

from nicegui import ui

from galaxy_chat.ui.markdown_render import finished_prefix_length, render_markdown, render_markdown_uncached

FLUSH_S = 0.04


class StreamingMarkdown:
    def __init__(self, text: str = "") -> None:
        self.text = ""
        self.rendered_upto = 0  # text[:rendered_upto] is in finished blocks
        self.last_flush = 0.0
        self.timer: asyncio.TimerHandle | None = None
        with ui.column().classes("gc-md w-full gap-0") as self.root:
            self.finished = ui.column().classes("w-full gap-0")
            self.tail = ui.html("", sanitize=False).classes("w-full")
        if text:
            self.append(text)
            self.close()

    def append(self, text: str) -> None:
        self.text += text
        wait = FLUSH_S - (time.monotonic() - self.last_flush)
        if wait <= 0:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.last_flush = time.monotonic()
        open_part = self.text[self.rendered_upto:]
        done = finished_prefix_length(open_part)
        if done:
            with self.finished:
                ui.html(render_markdown(open_part[:done]), sanitize=False).classes("w-full")
            self.rendered_upto += done
            open_part = open_part[done:]
        self.tail.set_content(render_markdown_uncached(open_part))

    def close(self) -> None:
        """The text is complete: render what is left (the tail) one last time."""
        self.flush()
