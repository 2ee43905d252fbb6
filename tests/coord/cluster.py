"""Several real app replicas behind a real HAProxy, sharing a real Redis, PostgreSQL and DATA_DIR, with Chromium
tabs pinned to a chosen replica (HAProxy's SERVERID cookie) or to none (the cookie dropped)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.browser import CHROMIUM, CHROMIUM_ARGS
from galaxy_chat.testing.haproxy import HAProxy, find_haproxy
from galaxy_chat.testing.postgres import PostgresServer
from galaxy_chat.testing.redis_server import RedisServer

NAMES = ("a", "b", "c")


def haproxy_or_skip() -> None:
    if find_haproxy() is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed (apt-get install haproxy): CI must run this test")
        pytest.skip("haproxy is not installed here")


class Cluster:
    def __init__(self, workdir: Path, redis: RedisServer, postgres: PostgresServer, env: dict[str, str],
                 count: int = 3) -> None:
        self.workdir = workdir
        self.redis = redis
        self.env = {"REDIS_URL": redis.url, "DATABASE_URL": postgres.url, **env}
        self.replicas = {name: AppProcess(workdir, ["--test-mode"], self.env) for name in NAMES[:count]}
        self.proxy = HAProxy({name: app.port for name, app in self.replicas.items()})

    def __enter__(self) -> Cluster:
        with ThreadPoolExecutor(len(self.replicas)) as pool:  # side by side: each start waits for its /health
            starting = [pool.submit(app.start) for app in self.replicas.values()]
        try:
            for started in starting:
                started.result()
            self.proxy.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.proxy.stop()
        for app in self.replicas.values():
            app.stop()

    @property
    def url(self) -> str:
        return self.proxy.url

    def conversation(self, chat_id: str, email: str = "test@test.com") -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/api/conversations/{chat_id}", headers={"X-EMAIL-USER": email}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def output(self) -> str:
        return "\n".join(f"--- {name}\n{app.output()[-3000:]}" for name, app in self.replicas.items())


@contextmanager
def browser() -> Iterator[Callable[..., Any]]:
    """`tab(url, replica=None, email=None)`: a page in a browser of its own (its own cookies), pinned to
    `replica` by HAProxy's cookie, or left to the balancer."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        def tab(url: str, replica: str | None = None, email: str | None = None) -> Any:
            context = chromium.new_context(viewport={"width": 1280, "height": 900},
                                           extra_http_headers={"X-EMAIL-USER": email} if email else None)
            if replica is not None:
                context.add_cookies([{"name": "SERVERID", "value": replica, "url": url}])
            page = context.new_page()
            page.goto(url, wait_until="networkidle", timeout=30_000)
            return page

        try:
            yield tab
        finally:
            chromium.close()


def served_by(page: Any) -> str:
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    return str(cookies.get("SERVERID", ""))


def reply_words(page: Any, prefix: str = "w") -> list[str]:
    """The numbered words of the tab's last reply, as shown."""
    text = page.get_by_test_id("message-assistant").last.inner_text()
    return [word for word in text.split() if word.startswith(prefix) and word[1:].isdigit()]


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
