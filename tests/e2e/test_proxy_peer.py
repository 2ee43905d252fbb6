"""The proxy allow-list is checked against the real TCP peer: no forwarded header lets a local process in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from galaxy_chat.testing.app_process import AppProcess
from tests.e2e.test_server_process import websocket_handshake

POLLING = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
SPOOFS = [
    {"X-Forwarded-For": "10.9.8.7"},
    {"X-Forwarded-For": "203.0.113.5, 10.9.8.7"},
    {"X-Real-IP": "10.9.8.7"},
    {"Forwarded": "for=10.9.8.7;proto=https"},
]
ANYONE = {"X-EMAIL-USER": "anyone@example.com"}


def started(tmp_path: Path, **env: str) -> AppProcess:
    process = AppProcess(tmp_path, args=[], env=env)
    process.start()
    return process


@pytest.fixture(scope="module")
def remote_proxy_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """Only 10.9.8.7 may send identity; the tests connect from 127.0.0.1."""
    process = started(tmp_path_factory.mktemp("remote"), TRUSTED_PROXY_IPS="10.9.8.7")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def loopback_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    process = started(tmp_path_factory.mktemp("loopback"), TRUSTED_PROXY_IPS="127.0.0.1")
    yield process
    process.stop()


@pytest.mark.parametrize("spoof", SPOOFS, ids=lambda h: next(iter(h)))
def test_forwarded_headers_do_not_pass_the_allow_list_over_http(remote_proxy_only: AppProcess, spoof) -> None:
    for path in ("/", "/ready", POLLING):
        response = httpx.get(remote_proxy_only.url + path, headers={**ANYONE, **spoof})
        assert response.status_code == 401, (path, response.text)
        assert "Galaxy Chat</title>" not in response.text


@pytest.mark.parametrize("spoof", SPOOFS, ids=lambda h: next(iter(h)))
def test_forwarded_headers_do_not_pass_the_allow_list_on_the_websocket(remote_proxy_only: AppProcess,
                                                                        spoof) -> None:
    headers = {"Origin": remote_proxy_only.url, **ANYONE, **spoof}
    assert websocket_handshake(remote_proxy_only, headers)[0] == 401


def test_refusals_name_the_real_peer(remote_proxy_only: AppProcess) -> None:
    httpx.get(remote_proxy_only.url + "/ready", headers={**ANYONE, "X-Forwarded-For": "10.9.8.7"})
    assert "peer 127.0.0.1 is not a trusted proxy" in remote_proxy_only.output()


def test_a_real_trusted_peer_is_served_everywhere(loopback_proxy: AppProcess) -> None:
    page = httpx.get(loopback_proxy.url + "/", headers=ANYONE)
    assert page.status_code == 200 and "<title>Galaxy Chat</title>" in page.text
    assert httpx.get(loopback_proxy.url + POLLING, headers=ANYONE).status_code == 200
    assert websocket_handshake(loopback_proxy, {"Origin": loopback_proxy.url, **ANYONE})[0] == 101


def test_the_log_shows_the_forwarded_client_of_a_trusted_proxy(loopback_proxy: AppProcess) -> None:
    headers = {**ANYONE, "X-Forwarded-For": "198.51.100.23, 127.0.0.1"}
    assert httpx.get(loopback_proxy.url + "/", headers=headers).status_code == 200
    assert "page opened by anyone@example.com from 198.51.100.23 via 127.0.0.1" in loopback_proxy.output()
