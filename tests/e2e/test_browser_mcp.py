"""An MCP tool's call in real Chromium: its progress bar, Stop during a long call, and a question's form."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx

from tests.browser_helpers import chromium_page, needs_chromium

pytestmark = needs_chromium
SERVER = {"id": "t", "command": sys.executable,
          "args": ["-W", "ignore", "-m", "galaxy_chat.testing.mcp_test_server", "--transport", "stdio"]}


def wait_connected(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        servers = httpx.get(f"{url}/ready", timeout=5).json()["checks"]["mcp"]["servers"]
        if servers and servers[0]["status"] == "connected":
            return
        time.sleep(0.1)
    raise AssertionError(f"the MCP server did not connect: {servers}")


def type_command(page, text: str) -> None:
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    box.press("Enter")


def test_progress_stop_and_a_form_for_an_mcp_call(app_process, tmp_path: Path) -> None:
    config = tmp_path / "mcp_servers.yml"
    config.write_text(json.dumps({"servers": [SERVER]}))
    server = app_process("--test-mode", MCP_SERVERS_FILE=str(config), TOOL_TIMEOUT_S="20")
    wait_connected(server.url)
    with chromium_page(server.url) as (page, errors):
        type_command(page, '/tool t__progress {"steps": 250}')
        bar = page.get_by_test_id("tool-progress")
        bar.wait_for(timeout=10_000)
        page.get_by_test_id("tool-progress-text").get_by_text("step", exact=False).wait_for(timeout=5_000)
        page.get_by_text("done 250 steps").wait_for(timeout=15_000)
        assert bar.count() == 0  # removed when the call finished

        type_command(page, '/tool t__slow {"seconds": 30}')
        page.get_by_test_id("stop-button").wait_for(timeout=5_000)
        page.wait_for_timeout(500)
        page.get_by_test_id("stop-button").click()
        page.get_by_test_id("send-button").wait_for(timeout=5_000)
        page.get_by_text("stopped").last.wait_for(timeout=5_000)

        type_command(page, '/tool t__ask {"question": "Deploy to production?"}')
        form = page.get_by_test_id("tool-question")
        form.get_by_text("Deploy to production?").wait_for(timeout=10_000)
        form.get_by_test_id("question-field-ok").click()
        form.get_by_test_id("question-field-note").fill("after the review")
        form.get_by_test_id("question-accept").click()
        page.get_by_text("accepted ok=True note=after the review").wait_for(timeout=10_000)
        form.get_by_test_id("question-outcome").get_by_text("Answered").wait_for(timeout=5_000)
        assert errors == []
