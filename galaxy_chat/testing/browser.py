"""What browser tests and the UI benchmark share: Debian's Chromium and its flags, and the scripted LLM server
on a thread of its own (Playwright's sync API blocks the test's thread)."""

from __future__ import annotations

import asyncio
import shutil
import threading

from galaxy_chat.testing.llm_server import Reply, ScriptedServer, is_health_check, is_title_request
from galaxy_chat.testing.llm_wire import openai_text

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]

class ThreadedServer:
    """The scripted server on its own event loop, so synchronous Playwright tests can use it."""

    def __init__(self, keep_alive: bool = False) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ScriptedServer(keep_alive)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.server.when(is_health_check, Reply(200, openai_text("Hi")))
        # A chat's title request is refused, so scripted replies go to the chat (the first line stays the title).
        self.server.when(is_title_request, Reply.json({"error": {"message": "no titles here"}}, status=400))

    def script(self, *replies: Reply) -> None:
        self.loop.call_soon_threadsafe(self.server.script, *replies)

    async def _stop(self) -> None:
        """Stop the server and end its connections' tasks, so none is left pending when the loop stops."""
        await self.server.stop()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
