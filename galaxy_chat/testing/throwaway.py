"""What the test servers (PostgreSQL, Redis, HAProxy) share. `ThrowawayServer`: a temporary folder of their
own, stop() keeping it for a restart, cleanup() removing it, and `with` for start-and-clean-up.
`ServerProcess`: one run in the foreground as a child process, started and waited for alike."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Self


class ThrowawayServer(ABC):
    folder: Path | None = None

    @abstractmethod
    def start(self) -> Self:
        """Start the server (in `folder`, made on first start) and return self once it answers."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the server, keeping its folder so a later start() finds its data again."""

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.cleanup()


class ServerProcess(ThrowawayServer):
    """A server run in the foreground as a child process, its output in its folder's `log`."""

    prefix = "galaxy-server-"
    process: subprocess.Popen[bytes] | None = None

    def own_folder(self) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix=self.prefix))
        return self.folder

    def spawn(self, command: list[str], ready: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Start `command` and wait until `ready()` says yes (an OSError from it means not yet)."""
        with (self.own_folder() / "log").open("ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError):
                if ready():
                    return
            time.sleep(0.02)
        raise RuntimeError(f"{Path(command[0]).name} did not start: see {self.folder}/log")

    def stop(self, kill: bool = False) -> None:
        """SIGTERM, or SIGKILL with `kill` (no goodbye to clients, like a crash); the folder stays."""
        if self.process is not None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
