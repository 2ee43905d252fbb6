"""`HAProxy`: a real load balancer in front of app replicas for tests and benchmarks, on a free 127.0.0.1 port.

It balances round robin and pins a browser to the replica that served its first page with a cookie
(`SERVERID`, inserted by HAProxy), as a deployment of several replicas needs for NiceGUI's WebSocket; each
answer names its replica in `X-Served-By`. It checks each replica's /health twice a second and sends a pinned
browser elsewhere once its replica is down (`option redispatch`). It runs in the foreground (`-db`) from a
folder of its own.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from galaxy_chat.testing.postgres import free_port
from galaxy_chat.testing.throwaway import ServerProcess

START_TIMEOUT_S = 10.0
CONFIG = """global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    retries 2
    option redispatch
frontend galaxy
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    cookie SERVERID insert indirect nocache
    option httpchk GET /health
    default-server check inter 500ms fall 2 rise 2
    http-response set-header X-Served-By %s
{servers}
"""


def find_haproxy() -> str | None:
    return shutil.which("haproxy") or (Path("/usr/sbin/haproxy").exists() and "/usr/sbin/haproxy") or None


class HAProxy(ServerProcess):
    prefix = "galaxy-haproxy-"

    def __init__(self, replicas: dict[str, int]) -> None:
        """`replicas`: name -> the port each app replica listens on (127.0.0.1)."""
        binary = find_haproxy()
        if binary is None:
            raise RuntimeError("haproxy is not installed (apt-get install haproxy)")
        self.binary = binary
        self.replicas = replicas
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HAProxy:
        servers = "\n".join(f"    server {name} 127.0.0.1:{port} cookie {name}"
                            for name, port in self.replicas.items())
        config = self.own_folder() / "haproxy.cfg"
        config.write_text(CONFIG.format(port=self.port, servers=servers))
        self.spawn([self.binary, "-db", "-f", str(config)], self._listens, START_TIMEOUT_S)
        return self

    def _listens(self) -> bool:
        socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        return True
