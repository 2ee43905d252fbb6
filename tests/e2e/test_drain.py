"""SIGTERM drains the real server (real processes, real Chromium): /ready answers 503 draining at once, new
messages are refused with a sentence, a running reply finishes whole within DRAIN_TIMEOUT_S, and one longer
than that is stopped with its partial text kept; the process exits in time."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from galaxy_chat.core.limits import DRAINING
from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.browser import CHROMIUM, CHROMIUM_ARGS
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_chunk
from tests.browser_helpers import needs_chromium, scripted_model

pytestmark = needs_chromium
SECRET = "drain-s3cret"
TOKENS_PER_S = 20


def signed_in(email: str) -> dict[str, str]:
    return {"X-EMAIL-USER": email, "X-Proxy-Secret": SECRET}


def slow_reply(words: int) -> Reply:
    chunks: list[bytes | float] = []
    for n in range(words):
        chunks += [openai_chunk({"content": f"w{n:04d} "}), 1 / TOKENS_PER_S]
    return Reply(200, chunks)


@contextmanager
def pages(url: str, *emails: str) -> Iterator[list[Any]]:
    """One browser, one signed-in page per person."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            opened = []
            for email in emails:
                page = browser.new_context(extra_http_headers=signed_in(email)).new_page()
                page.goto(url, wait_until="networkidle", timeout=30_000)
                opened.append(page)
            yield opened
        finally:
            browser.close()


def ask(page: Any, text: str) -> None:
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    box.press("Enter")


def logged_reply(log_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """The words of the one model reply in the session logs, and its `done` record."""
    for path in log_dir.glob("*.jsonl"):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        done = [r for r in records if r.get("type") == "done"]
        if done:
            text = "".join(r.get("text", "") for r in records if r.get("type") in ("text", "text_delta"))
            return text.split(), done[-1]
    raise AssertionError(f"no reply in the logs of {log_dir}")


def wait_for_ready_status(server: AppProcess, status: int, timeout_s: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        answer = httpx.get(f"{server.url}/ready", headers=signed_in("probe@galaxy-chat.local"), timeout=5)
        if answer.status_code == status or time.monotonic() > deadline:
            return {"status_code": answer.status_code, **answer.json()}
        time.sleep(0.1)


def test_sigterm_lets_a_running_reply_finish_and_refuses_new_messages(tmp_path: Path) -> None:
    words = 3 * TOKENS_PER_S  # a 3 s reply, well inside the drain
    with scripted_model(tmp_path) as (llm, env):
        llm.script(slow_reply(words))
        server = AppProcess(tmp_path, args=[], env={**env, "TRUSTED_PROXY_SECRET": SECRET, "DRAIN_TIMEOUT_S": "20"})
        server.start()
        try:
            with pages(server.url, "alice@example.com", "bob@example.com") as (alice, bob):
                ask(alice, "Count slowly")
                alice.get_by_text("w0005", exact=False).wait_for(timeout=15_000)
                assert server.process is not None
                began = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                ready = wait_for_ready_status(server, 503)
                assert ready["status_code"] == 503 and ready["status"] == "draining"
                assert ready["checks"]["drain"]["running"] == 1
                ask(bob, "Hello")  # a new message on the draining replica: refused, with what to do
                bob.get_by_text(DRAINING).wait_for(timeout=5_000)
                refused = httpx.post(f"{server.url}/api/commands", json={"text": "/help"},
                                     headers=signed_in("carol@example.com"), timeout=10)
                assert refused.status_code == 503 and refused.json()["detail"] == DRAINING
                alice.get_by_text(f"w{words - 1:04d}", exact=False).wait_for(timeout=15_000)
                code = server.process.wait(timeout=20)
                seconds = time.monotonic() - began
        finally:
            server.stop()
    assert code == 0, server.output()
    assert seconds < 3 + 3 + 2  # the rest of the reply, SHUTDOWN_TIMEOUT_S (3 s) and a moment
    text, done = logged_reply(tmp_path / "logs")
    assert text == [f"w{n:04d}" for n in range(words)]  # whole, in order
    assert not done.get("stopped")
    assert "drained in" in server.output() and "Traceback" not in server.output()


def test_a_reply_longer_than_the_drain_timeout_is_stopped_with_its_partial_text(tmp_path: Path) -> None:
    with scripted_model(tmp_path) as (llm, env):
        llm.script(slow_reply(20 * TOKENS_PER_S))  # 20 s of reply
        server = AppProcess(tmp_path, args=[], env={**env, "TRUSTED_PROXY_SECRET": SECRET, "DRAIN_TIMEOUT_S": "2"})
        server.start()
        try:
            with pages(server.url, "alice@example.com") as (alice,):
                ask(alice, "Count slowly")
                alice.get_by_text("w0005", exact=False).wait_for(timeout=15_000)
                chat_id = alice.url.rsplit("/c/", 1)[1]
                assert server.process is not None
                began = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                code = server.process.wait(timeout=20)
                seconds = time.monotonic() - began
        finally:
            server.stop()
        assert code == 0, server.output()
        assert 2 <= seconds < 2 + 3 + 2  # DRAIN_TIMEOUT_S, SHUTDOWN_TIMEOUT_S (3 s) and a moment
        text, done = logged_reply(tmp_path / "logs")
        assert done.get("stopped") is True
        assert text == [f"w{n:04d}" for n in range(len(text))]  # the partial text, as streamed
        assert len(text) >= 2 * TOKENS_PER_S  # the drain's 2 s of it at least
        assert "stopped (partial text kept)" in server.output()
        again = AppProcess(tmp_path, args=[], env={**env, "TRUSTED_PROXY_SECRET": SECRET})
        again.start()  # what another replica would show after a reload: the same partial text, saved
        try:
            saved = httpx.get(f"{again.url}/api/conversations/{chat_id}", headers=signed_in("alice@example.com"),
                              timeout=10).json()["messages"][-1]
        finally:
            again.stop()
    assert saved["text"].split() == text


def test_a_command_over_http_gets_the_drain_too_then_is_stopped(tmp_path: Path) -> None:
    server = AppProcess(tmp_path, args=["--test-mode"], env={"DRAIN_TIMEOUT_S": "1"})
    server.start()
    answers: list[httpx.Response] = []
    slow = {"text": "/python import time; print('started', flush=True); time.sleep(30)"}
    caller = threading.Thread(target=lambda: answers.append(
        httpx.post(f"{server.url}/api/commands", json=slow, timeout=40)))
    try:
        caller.start()
        deadline = time.monotonic() + 15
        while "/python" not in "".join(p.read_text() for p in (tmp_path / "logs").glob("*.jsonl")):
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        time.sleep(0.5)
        code, seconds = server.terminate(timeout=20)
        caller.join(10)
    finally:
        server.stop()
    assert code == 0, server.output()
    assert 1 <= seconds < 1 + 3, server.output()  # DRAIN_TIMEOUT_S, then the stopped command's answer at once
    assert answers and answers[0].status_code == 200
    done = answers[0].json()["events"][-1]
    assert done["type"] == "done" and done["stopped"] is True
