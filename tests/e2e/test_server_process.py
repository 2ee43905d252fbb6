"""The real server process: WebSocket handshake identity, and clean stops on SIGTERM/SIGINT."""

from __future__ import annotations

import base64
import os
import signal
import socket
from collections.abc import Iterator

import httpx
import pytest

from galaxy_chat.testing.app_process import AppProcess

SOCKET_PATH = "/_nicegui_ws/socket.io/?EIO=4&transport=websocket"


def websocket_handshake(server: AppProcess, headers: dict[str, str]) -> tuple[int, str]:
    """Open a raw WebSocket handshake like a browser would; return the HTTP status and the body start."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {SOCKET_PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        if not received.startswith(b"HTTP/1.1 101"):
            sock.settimeout(2)
            try:
                while chunk := sock.recv(4096):
                    received += chunk
            except TimeoutError:
                pass
    status_line, _, rest = received.decode(errors="replace").partition("\r\n")
    return int(status_line.split()[1]), rest


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """One server for the identity tests of this module (a start costs ~2 s)."""
    server = AppProcess(tmp_path_factory.mktemp("proxied"), args=[], env={"TRUSTED_PROXY_SECRET": "proxy-s3cret"})
    server.start()
    yield server
    server.stop()


def test_websocket_without_identity_is_401(proxied_server: AppProcess) -> None:
    status, body = websocket_handshake(proxied_server, {"Origin": proxied_server.url, "X-Proxy-Secret": "proxy-s3cret"})
    assert status == 401
    assert "Sign in through your organisation" in body


def test_websocket_with_wrong_secret_is_401(proxied_server: AppProcess) -> None:
    headers = {"Origin": proxied_server.url, "X-EMAIL-USER": "a@example.com", "X-Proxy-Secret": "nope"}
    assert websocket_handshake(proxied_server, headers)[0] == 401
    assert "missing or wrong proxy secret" in proxied_server.output()


def test_websocket_from_foreign_origin_is_refused(proxied_server: AppProcess) -> None:
    headers = {"Origin": "https://evil.example", "X-EMAIL-USER": "a@example.com", "X-Proxy-Secret": "proxy-s3cret"}
    assert websocket_handshake(proxied_server, headers)[0] == 403


def test_websocket_with_identity_upgrades(proxied_server: AppProcess) -> None:
    headers = {"Origin": proxied_server.url, "X-EMAIL-USER": "a@example.com", "X-Proxy-Secret": "proxy-s3cret"}
    assert websocket_handshake(proxied_server, headers)[0] == 101


def test_page_needs_identity_on_the_real_server(proxied_server: AppProcess) -> None:
    assert httpx.get(proxied_server.url + "/").status_code == 401
    assert httpx.get(proxied_server.url + "/health").status_code == 200
    signed_in = {"X-EMAIL-USER": "a@example.com", "X-Proxy-Secret": "proxy-s3cret"}
    ok = httpx.get(proxied_server.url + "/", headers=signed_in)
    assert ok.status_code == 200 and "<title>Galaxy Chat</title>" in ok.text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_server_cleanly_within_5_seconds(app_process, sig: signal.Signals) -> None:
    server = app_process("--test-mode")
    assert httpx.get(server.url + "/").status_code == 200
    code, seconds = server.terminate(sig)
    assert code == 0, server.output()
    assert seconds < 5
    assert "Traceback" not in server.output()
