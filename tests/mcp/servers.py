"""Real MCP servers for the tests: the SDK test server over stdio or under uvicorn on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from galaxy_chat.mcp import McpConnections, McpServerConfig

SERVER_MODULE = "galaxy_chat.testing.mcp_test_server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stdio_config(server_id: str = "t", mode: str = "normal", **fields: Any) -> McpServerConfig:
    args = ["-W", "ignore", "-m", SERVER_MODULE, "--transport", "stdio", "--mode", mode]
    return McpServerConfig(id=server_id, command=sys.executable, args=args, **fields)


class HttpServer:
    """The test server under uvicorn; `restart()` keeps the port (a server that restarted)."""

    def __init__(self, mode: str = "normal", transport: str = "http") -> None:
        self.mode = mode
        self.transport = transport
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/{'mcp' if transport == 'http' else 'sse'}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-W", "ignore", "-m", SERVER_MODULE, "--transport", self.transport,
                   "--port", str(self.port), "--mode", self.mode]
        self.process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the test server exited with {self.process.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError("the test server did not listen within 20 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@asynccontextmanager
async def running(*configs: McpServerConfig, settle_s: float = 30.0, **options: Any) -> AsyncIterator[McpConnections]:
    """Started connections, settled (connected or failed), always stopped afterwards."""
    connections = McpConnections(list(configs), **options)
    connections.start()
    try:
        await connections.wait_settled(settle_s)
        yield connections
    finally:
        await connections.stop()


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
