"""A `kill -9` of the server in the middle of a reply (real processes, real Chromium): the chat is readable
after a restart, with the reply's text up to at most a second before the kill, marked interrupted, and the
person can retry."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_chunk
from tests.browser_helpers import chromium_page, needs_chromium, scripted_model

pytestmark = needs_chromium
TOKENS_PER_S = 20


def test_a_killed_server_leaves_the_reply_saved_and_marked_interrupted(tmp_path: Path) -> None:
    tokens: list[bytes | float] = []
    for n in range(400):  # 20 s of reply, far longer than the test
        tokens += [openai_chunk({"content": f"w{n:04d} "}), 1 / TOKENS_PER_S]
    with scripted_model(tmp_path) as (llm, env):
        llm.script(Reply(200, tokens))
        first = AppProcess(tmp_path, args=["--test-mode"], env=env)
        first.start()
        try:
            with chromium_page(first.url) as (page, _errors):
                box = page.get_by_test_id("chat-input")
                box.fill("Count slowly")
                box.press("Enter")
                page.get_by_text("w0040", exact=False).wait_for(timeout=15_000)
                shown = page.get_by_test_id("message-assistant").last.inner_text()
                chat_id = page.url.rsplit("/c/", 1)[1]
                assert first.process is not None
                first.process.send_signal(signal.SIGKILL)
                first.process.wait(10)
        finally:
            first.stop()
        again = AppProcess(tmp_path, args=["--test-mode"], env=env)
        again.start()
        try:
            deadline = time.monotonic() + 20  # the dead writer's lease lapses within LEASE_S (10 s)
            while time.monotonic() < deadline:
                message = httpx.get(f"{again.url}/api/conversations/{chat_id}", timeout=10).json()["messages"][-1]
                if message["status"] != "streaming":
                    break
                time.sleep(0.5)
            assert message["status"] == "interrupted"
            seen = [word for word in shown.split() if word.startswith("w") and len(word) == 5]
            saved = message["text"].split()
            assert saved == seen[:len(saved)]  # what was saved is what the person saw, in order
            assert len(saved) >= len(seen) - TOKENS_PER_S  # at most a second of it lost
            with chromium_page(f"{again.url}/c/{chat_id}") as (page, errors):
                page.get_by_text("This reply was interrupted", exact=False).wait_for(timeout=15_000)
                page.get_by_test_id("retry-button").wait_for(timeout=5_000)
                assert page.get_by_text(saved[-1]).count() >= 1
                assert errors == []
        finally:
            again.stop()
