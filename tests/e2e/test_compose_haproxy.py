"""compose.yaml's load balancer configuration (deploy/haproxy/haproxy.cfg) run by a real HAProxy in front of two
real replicas, on loopback: its signed-in health checks on /ready take a draining replica out at once, a
browser pinned to it goes to the other one, and the request already running on it still gets its answer."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.haproxy import HAProxy, find_haproxy

pytestmark = pytest.mark.skipif(find_haproxy() is None, reason="haproxy is not installed (apt-get install haproxy)")
ROOT = Path(__file__).resolve().parents[2]
SECRET = "lb-s3cret"
HEADERS = {"X-EMAIL-USER": "alice@example.com", "X-Proxy-Secret": SECRET}


class ComposeHAProxy(HAProxy):
    """The compose configuration with loopback addresses instead of Docker's names and DNS."""

    def start(self) -> ComposeHAProxy:
        text = (ROOT / "deploy/haproxy/haproxy.cfg").read_text()
        text = text.replace("bind :8080", f"bind 127.0.0.1:{self.port}").replace(" resolvers docker init-addr none", "")
        for name, port in self.replicas.items():
            text = re.sub(rf"server {name} {name}:8080", f"server {name} 127.0.0.1:{port}", text)
        text = re.sub(r"(?m)^    server \S+ \S+:8080 .*\n", "", text)  # the replicas this test does not run
        text = re.sub(r"(?m)^resolvers docker\n(    .*\n)+", "", text)
        config = self.own_folder() / "haproxy.cfg"
        config.write_text(text)
        self.spawn([self.binary, "-db", "-f", str(config)], self._listens, 10.0)
        return self


def pinned_to(answer: httpx.Response) -> str | None:
    return answer.cookies.get("SERVERID")


def test_a_draining_replica_gets_no_new_requests_and_finishes_its_own(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXY_SECRET", SECRET)  # HAProxy's health checks send it, as in compose
    env = {"TRUSTED_PROXY_SECRET": SECRET, "DRAIN_TIMEOUT_S": "10"}
    replicas = {name: AppProcess(tmp_path / name, args=[], env=env) for name in ("app-1", "app-2")}
    answers: list[httpx.Response] = []
    for app in replicas.values():
        app.workdir.mkdir()
        app.start()
    try:
        with ComposeHAProxy({name: app.port for name, app in replicas.items()}) as proxy:
            deadline = time.monotonic() + 10
            while (first := httpx.get(f"{proxy.url}/ready", headers=HEADERS, timeout=5)).status_code != 200:
                assert time.monotonic() < deadline, "HAProxy never found a healthy replica"
                time.sleep(0.2)
            name = pinned_to(first)
            assert name in replicas and first.json()["status"] == "ready"
            cookie = {"SERVERID": name}
            slow = {"text": "/python import time; time.sleep(30)"}
            caller = threading.Thread(target=lambda: answers.append(httpx.post(
                f"{proxy.url}/api/commands", json=slow, headers=HEADERS, cookies=cookie, timeout=40)))
            caller.start()
            time.sleep(2)  # the command runs on the pinned replica
            draining = replicas[name]
            assert draining.process is not None
            draining.process.send_signal(15)
            began = time.monotonic()
            while (moved := httpx.get(f"{proxy.url}/ready", headers=HEADERS, cookies=cookie, timeout=5)) \
                    .json()["status"] != "ready":
                assert moved.json()["status"] == "draining"  # only the pinned replica answers until it is out
                assert time.monotonic() - began < 8, "HAProxy kept sending to the draining replica"
                time.sleep(0.2)
            other = pinned_to(moved)
            assert other in replicas and other != name  # redispatched and pinned anew
            out_after_s = time.monotonic() - began
            caller.join(30)
            assert draining.process.wait(20) == 0
    finally:
        for app in replicas.values():
            app.stop()
    assert answers and answers[0].status_code == 200  # the running command's answer came through the tunnel
    assert answers[0].json()["events"][-1]["stopped"] is True  # stopped at DRAIN_TIMEOUT_S, answered all the same
    assert out_after_s < 6  # health checks every 2 s, out after two failures
