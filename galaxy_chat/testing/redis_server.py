"""`RedisServer`: a throwaway redis-server for tests and benchmarks, on a free 127.0.0.1 port.

It runs in a temporary folder of its own with nothing saved to disk (`--save ""`, no append-only file), so
stop() then start() is a Redis restart that lost everything, on the same port (fault tests); cleanup()
stops it and removes the folder.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from galaxy_chat.testing.postgres import free_port
from galaxy_chat.testing.throwaway import ThrowawayServer

START_TIMEOUT_S = 10.0


def find_redis_server() -> str | None:
    return shutil.which("redis-server")


class RedisServer(ThrowawayServer):
    def __init__(self) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = free_port()
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="galaxy-redis-"))
        log = (self.folder / "log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start: see {self.folder}/log")

    def stop(self) -> None:
        """Stop at once (SIGKILL: no goodbye to clients, like a crash); the port stays this server's."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
