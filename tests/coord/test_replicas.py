"""Two app processes sharing one real Redis: the rate limit counts across them (also behind a real HAProxy),
/ready shows the coordinator, and a replica whose Redis went away stays ready, says `degraded: redis`, and
recovers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import httpx
import pytest

from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.haproxy import HAProxy, find_haproxy
from galaxy_chat.testing.redis_server import RedisServer


def command(app: AppProcess | HAProxy, email: str = "ann@example.com") -> dict:
    """The answer's JSON, with `ok` False for a refusal (429 with its sentence in `text`)."""
    answer = httpx.post(f"{app.url}/api/commands", json={"text": "/calc 1+1"}, headers={"X-EMAIL-USER": email},
                        timeout=10)
    if answer.status_code == 429:
        return {"ok": False, "text": answer.json()["detail"]}
    assert answer.status_code == 200, answer.text
    return answer.json()


def coordinator_state(app: AppProcess) -> dict:
    return httpx.get(f"{app.url}/ready", timeout=5).json()["checks"]["coordinator"]


def wait_for(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_rate_limit_counts_across_replicas_and_survives_an_outage(
        app_process: Callable[..., AppProcess], own_redis: RedisServer) -> None:
    env = {"REDIS_URL": own_redis.url, "MESSAGES_PER_MINUTE": "3"}
    a, b = app_process("--test-mode", **env), app_process("--test-mode", **env)
    assert coordinator_state(a) == {"ok": True, "backend": "redis", "degraded": None}
    assert coordinator_state(b) == {"ok": True, "backend": "redis", "degraded": None}
    assert [command(app)["ok"] for app in (a, b, a)] == [True, True, True]
    refused = command(b)  # the fourth in a minute, on the replica that saw only one of them
    assert not refused["ok"] and "You have sent 3 messages in the last minute" in refused["text"]

    own_redis.stop()
    wait_for(lambda: coordinator_state(a)["degraded"] == "redis")  # noticed without any message sent
    answer = httpx.get(f"{a.url}/ready", timeout=5)
    assert answer.status_code == 200  # still serving: limits are the replica's own meanwhile
    assert command(a)["ok"]

    own_redis.start()  # empty: it kept nothing
    wait_for(lambda: coordinator_state(a)["degraded"] is None and coordinator_state(b)["degraded"] is None)
    assert [command(app, "bob@example.com")["ok"] for app in (a, b, a)] == [True, True, True]
    assert not command(b, "bob@example.com")["ok"]  # counted across replicas again


def test_behind_haproxy_a_tab_stays_on_its_replica_and_limits_count_across_both(
        app_process: Callable[..., AppProcess], own_redis: RedisServer) -> None:
    if find_haproxy() is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed (apt-get install haproxy): CI must run this test")
        pytest.skip("haproxy is not installed here")
    env = {"REDIS_URL": own_redis.url, "MESSAGES_PER_MINUTE": "4"}
    replicas = {"a": app_process("--test-mode", **env), "b": app_process("--test-mode", **env)}
    with HAProxy({name: app.port for name, app in replicas.items()}) as proxy:
        page = httpx.get(f"{proxy.url}/", headers={"X-EMAIL-USER": "ann@example.com"}, timeout=10)
        assert page.status_code == 200
        pinned = page.headers["X-Served-By"]
        assert page.cookies["SERVERID"] == pinned
        with httpx.Client(base_url=proxy.url, cookies={"SERVERID": pinned}, timeout=10) as tab:
            served = {tab.get("/ready", headers={"X-EMAIL-USER": "ann@example.com"}).headers["X-Served-By"]
                      for _ in range(4)}
        assert served == {pinned}  # the tab's requests (and its WebSocket) stay on its replica
        by_api = [httpx.post(f"{proxy.url}/api/commands", json={"text": "/calc 1+1"},
                             headers={"X-EMAIL-USER": "bob@example.com"}, timeout=10) for _ in range(5)]
        assert {answer.headers["X-Served-By"] for answer in by_api} == {"a", "b"}  # no cookie: round robin
        assert [answer.status_code for answer in by_api] == [200, 200, 200, 200, 429]
