"""Faults under three replicas behind HAProxy (real processes, Chromium): a replica killed mid-reply, and Redis
restarted mid-reply. Nothing that was saved is lost, nothing stays locked, no other person is touched."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from galaxy_chat.testing.browser import ThreadedServer
from galaxy_chat.testing.postgres import PostgresServer
from galaxy_chat.testing.redis_server import RedisServer
from tests.browser_helpers import needs_chromium, scripted_model, send_and_wait
from tests.coord.cluster import Cluster, browser, haproxy_or_skip, reply_words, served_by, wait_until
from tests.coord.test_scale_out import PER_S, WORDS, counting_reply

pytestmark = [*needs_chromium, pytest.mark.timeout(240)]



@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, own_redis: RedisServer) -> Iterator[
        tuple[Cluster, ThreadedServer]]:
    haproxy_or_skip()
    postgres.reset()
    workdir = tmp_path_factory.mktemp("chaos")
    with scripted_model(workdir) as (llm, env), Cluster(workdir, own_redis, postgres, env) as running:
        yield running, llm


def start_counting(page: Any, text: str, seen: str) -> None:
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    box.press("Enter")
    page.get_by_text(seen, exact=False).wait_for(timeout=15_000)


def test_a_replica_killed_mid_reply_leaves_it_interrupted_elsewhere_and_others_untouched(
        cluster: tuple[Cluster, ThreadedServer]) -> None:
    running, llm = cluster
    llm.script(counting_reply(words=400), counting_reply(prefix="b"), counting_reply(words=5, prefix="r"))
    with browser() as tab:
        ann = tab(running.url, replica="a", email="ann@example.com")
        start_counting(ann, "Count for a long time", "w0030")
        bob = tab(running.url, replica="b", email="bob@example.com")
        start_counting(bob, "Count for me too", "b0005")
        chat_id = ann.url.rsplit("/c/", 1)[1]
        shown = reply_words(ann)

        killed = running.replicas["a"].process
        assert killed is not None
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        began = time.monotonic()
        # The tab reconnects through HAProxy to another replica, which does not know the page: it reloads there.
        ann.get_by_test_id("message-assistant").get_by_text("This reply was interrupted", exact=False).wait_for(
            timeout=30_000)
        recovered_s = time.monotonic() - began
        assert served_by(ann) in {"b", "c"}
        words = reply_words(ann)
        assert words == [f"w{n:04d}" for n in range(len(words))]  # in order, nothing twice
        assert len(words) >= len(shown) - PER_S  # what was saved: at most the last second before the kill lost

        bob.get_by_text(f"b{WORDS - 1:04d}", exact=False).wait_for(timeout=20_000)  # another person's reply
        assert reply_words(bob, "b") == [f"b{n:04d}" for n in range(WORDS)]

        retry_until_accepted(ann, "r0004")  # nothing stays locked: the dead replica's run lease expires
        stored = running.conversation(chat_id, "ann@example.com")["messages"]
        replies = [m for m in stored if m["role"] == "assistant"]
        assert replies[-1]["status"] == "done"
        assert recovered_s < 30


def retry_until_accepted(page: Any, seen: str, timeout_s: float = 30.0) -> None:
    """Retry; within the dead replica's run lease (RUN_LEASE_S) a retry is refused with a toast, after it works."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.get_by_test_id("retry-button").last.click()
        try:
            page.get_by_text(seen, exact=False).wait_for(timeout=3_000)
            return
        except PlaywrightTimeout:
            assert time.monotonic() < deadline, "the retry was never accepted"


def test_redis_restarted_mid_reply_loses_nothing_and_locks_and_limits_recover(
        cluster: tuple[Cluster, ThreadedServer], own_redis: RedisServer) -> None:
    """Ann's tab stays on the replica running her reply; Bob's reply runs on a and is followed from b, so
    what a was writing while Redis was away reaches b from the history."""
    running, llm = cluster
    llm.script(counting_reply(words=200), counting_reply(words=200, prefix="b"), counting_reply(words=5, prefix="n"))
    a = running.replicas["a"]

    def degraded() -> object:
        return httpx.get(f"{a.url}/ready", timeout=5).json()["checks"]["coordinator"]["degraded"]

    with browser() as tab:
        ann = tab(running.url, replica="a", email="ann@example.com")
        start_counting(ann, "Count through the outage", "w0010")
        bob_on_a = tab(running.url, replica="a", email="bob@example.com")
        start_counting(bob_on_a, "Count for me through it", "b0005")
        bob = tab(running.url, replica="b", email="bob@example.com")  # follows Bob's reply running on a
        bob.get_by_text("b0010", exact=False).wait_for(timeout=10_000)
        own_redis.stop()
        wait_until(lambda: degraded() == "redis", what="degraded: redis")
        assert httpx.get(f"{a.url}/ready", timeout=5).status_code == 200  # still serving its own
        time.sleep(1.0)
        own_redis.start()
        wait_until(lambda: degraded() is None, what="Redis shared again")
        for page, prefix in ((ann, "w"), (bob, "b")):
            page.get_by_text(f"{prefix}0199", exact=False).wait_for(timeout=20_000)
            page.get_by_test_id("send-button").wait_for(timeout=10_000)
            assert reply_words(page, prefix) == [f"{prefix}{n:04d}" for n in range(200)]  # whole, nothing twice
            chat_id = (ann if page is ann else bob_on_a).url.rsplit("/c/", 1)[1]
            stored = running.conversation(chat_id, f"{'ann' if page is ann else 'bob'}@example.com")["messages"]
            assert stored[-1]["status"] == "done" and stored[-1]["text"].split() == reply_words(page, prefix)

        send_and_wait(ann, "And after it?")  # the run lock was given back and is taken again
        ann.get_by_text("n0004", exact=False).wait_for(timeout=10_000)
    burst = [httpx.post(f"{running.url}/api/commands", json={"text": "/calc 1"},
                        headers={"X-EMAIL-USER": "after@example.com"}, timeout=10).status_code for _ in range(21)]
    assert burst == [200] * 20 + [429]  # counted across the replicas again
