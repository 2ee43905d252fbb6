"""The app as a real subprocess on 127.0.0.1 and a free port, for socket, signal and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from galaxy_chat.settings import Settings

ROOT = Path(__file__).resolve().parents[2]  # the repository
SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)


def subprocess_env(**env: str) -> dict[str, str]:
    """This environment without settings from the shell or pytest's marker, plus `env`.

    NiceGUI believes it runs under its own test plugin when it sees PYTEST_CURRENT_TEST.
    """
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTING_NAMES and k != "PYTEST_CURRENT_TEST" and not k.startswith("NICEGUI_")
    }
    clean.update(env)
    return clean


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    def __init__(self, workdir: Path, args: list[str], env: dict[str, str]) -> None:
        self.workdir = workdir
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = subprocess_env(
            LOG_DIR=str(workdir / "logs"), DATA_DIR=str(workdir / "data"), PYTHONUNBUFFERED="1", **env
        )
        self.output_path = workdir / f"app-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 40.0) -> None:
        command = [sys.executable, "-m", "galaxy_chat", "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"app did not become healthy in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send `sig`; return the exit code and the seconds the process took to exit."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - began

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
