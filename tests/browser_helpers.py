"""Real-browser test support: Debian's Chromium via Playwright, and the scripted LLM server in a thread."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from galaxy_chat.testing.browser import CHROMIUM, CHROMIUM_ARGS, ThreadedServer

# The `browser` marker (`pytest -m "not browser"` leaves these out). Skipped only on a developer machine
# without Chromium; in CI (CI=true) a missing browser fails instead.
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                       reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@contextmanager
def scripted_model(tmp_path: Path) -> Iterator[tuple[ThreadedServer, dict[str, str]]]:
    server = ThreadedServer()
    path = tmp_path / "llms.yml"
    path.write_text(f"models:\n  - name: Scripted\n    provider: openai\n    base_url: {server.server.base_url}/v1\n"
                    "    api_key: sk-browser-test\n    model_name: scripted-1\n")
    try:
        yield server, {"LLM_CONFIG_FILE": str(path), "HEALTH_CHECK_INTERVAL_S": "3600"}
    finally:
        server.stop()


@contextmanager
def chromium_page(url: str, width: int = 1280, height: int = 900,
                  headers: dict[str, str] | None = None) -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, extra_http_headers=headers)
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url, wait_until="networkidle", timeout=30_000)
        try:
            yield page, errors
        finally:
            browser.close()


def send_and_wait(page: Any, text: str, timeout_ms: int = 15_000) -> None:
    """Type `text`, press Enter, and wait until its reply has appeared and finished (Send is back)."""
    replies = page.get_by_test_id("message-assistant")
    before = replies.count()
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    box.press("Enter")
    replies.nth(before).wait_for(timeout=timeout_ms)
    page.get_by_test_id("stop-button").wait_for(state="hidden", timeout=timeout_ms)
    page.get_by_test_id("send-button").wait_for(state="visible", timeout=timeout_ms)
