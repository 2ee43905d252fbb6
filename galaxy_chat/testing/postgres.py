"""`PostgresServer`: a throwaway PostgreSQL for tests and benchmarks, on a free 127.0.0.1 port.

start() runs initdb in a new temporary folder (owned by the `postgres` user and run through
`runuser -u postgres` when we are root, since PostgreSQL refuses to run as root), starts the server
with its socket in that folder and waits until it accepts connections. stop() shuts it down fast and
keeps the folder, so start() brings the same database back (fault tests); cleanup() stops it and removes
the folder. Binaries come from PATH or /usr/lib/postgresql/<version>/bin.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from galaxy_chat.testing.throwaway import ThrowawayServer

USER = "galaxy"
DATABASE = "galaxy"
START_TIMEOUT_S = 30.0


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent  # a symlink on PATH points into the real bin folder
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer(ThrowawayServer):
    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)")
        self.bin_dir = found
        self.folder: Path | None = None
        self.port = free_port()
        self.running = False

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None, "start() first"
        return self.folder / "data"

    @property
    def url(self) -> str:
        """The DATABASE_URL for the app (plain postgresql://, as a person would write it)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True,
                              stdin=subprocess.DEVNULL)

    def start(self) -> PostgresServer:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="galaxy-pg-"))
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            self._run("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", USER, "-E", "UTF8",
                      "--no-sync", "--locale=C.UTF-8")
            fresh = True
        else:
            fresh = False
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.folder / "log"), "-w",
                  "-t", str(int(START_TIMEOUT_S)), "start")
        self.running = True
        self._wait_ready()
        if fresh:
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, timeout=5)
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not accept connections: see {self.folder}/log") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown (open connections are cut); the folder stays for start() again."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
            self.running = False

    def psql(self, sql: str) -> str:
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", DATABASE,
                         "-At", "-c", sql).stdout

    def reset(self) -> None:
        """A new empty database (the tests' isolation between cases)."""
        self.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'galaxy' "
                  "AND pid <> pg_backend_pid()")
        for sql in ("DROP SCHEMA public CASCADE", "CREATE SCHEMA public"):
            self.psql(sql)
