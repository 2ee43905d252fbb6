"""`HAProxy`: a real load balancer in front of app replicas for tests and benchmarks, on a free 127.0.0.1 port.

It balances round robin and pins a browser to the replica that served its first page with a cookie
(`SERVERID`, inserted by HAProxy), as a deployment of several replicas needs for NiceGUI's WebSocket; each
answer names its replica in `X-Served-By`. It runs in the foreground (`-db`) from a folder of its own.
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
CONFIG = """global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend galaxy
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    cookie SERVERID insert indirect nocache
    http-response set-header X-Served-By %s
{servers}
"""


def find_haproxy() -> str | None:
    return shutil.which("haproxy") or (Path("/usr/sbin/haproxy").exists() and "/usr/sbin/haproxy") or None


class HAProxy(ThrowawayServer):
    def __init__(self, replicas: dict[str, int]) -> None:
        """`replicas`: name -> the port each app replica listens on (127.0.0.1)."""
        binary = find_haproxy()
        if binary is None:
            raise RuntimeError("haproxy is not installed (apt-get install haproxy)")
        self.binary = binary
        self.replicas = replicas
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HAProxy:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="galaxy-haproxy-"))
        servers = "\n".join(f"    server {name} 127.0.0.1:{port} cookie {name}"
                            for name, port in self.replicas.items())
        config = self.folder / "haproxy.cfg"
        config.write_text(CONFIG.format(port=self.port, servers=servers))
        with (self.folder / "log").open("ab") as log:
            self.process = subprocess.Popen([self.binary, "-db", "-f", str(config)], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"haproxy did not start: see {self.folder}/log")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
