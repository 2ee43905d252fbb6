"""`RedisServer`: a throwaway redis-server for tests and benchmarks, on a free 127.0.0.1 port.

It runs in a temporary folder of its own with nothing saved to disk (`--save ""`, no append-only file), so
stop() then start() is a Redis restart that lost everything, on the same port (fault tests); cleanup()
stops it and removes the folder.
"""

from __future__ import annotations

import shutil
import socket

from galaxy_chat.testing.postgres import free_port
from galaxy_chat.testing.throwaway import ServerProcess

START_TIMEOUT_S = 10.0


def find_redis_server() -> str | None:
    return shutil.which("redis-server")


class RedisServer(ServerProcess):
    prefix = "galaxy-redis-"

    def __init__(self) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.own_folder()),
                   "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
        self.spawn(command, self._answers, START_TIMEOUT_S)
        return self

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self, kill: bool = True) -> None:
        """Killed by default, like a crash: a restart of Redis that lost everything, on the same port."""
        super().stop(kill)
