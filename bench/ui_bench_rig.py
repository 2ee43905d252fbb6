"""The machinery of bench/ui_stream_bench.py: the app process, the scripted model, and what /proc and ss say.

- The app runs as `python -m galaxy_chat --test-mode` (tests/app_process.py) pinned to one core; this
  process, its server thread, the Playwright driver and Chromium are pinned to the other one.
- The scripted model (tests/llm_server.py in a thread) streams self-identifying tokens: the first is
  "r07 " (reply 7), then "t0001 ", "t0002 ", …; the time each token is written is recorded (time.time()).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.browser import ThreadedServer
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import DONE, openai_chunk

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cores() -> tuple[set[int], set[int]]:
    """(app cores, browser cores): one each when there are two or more, else everything shared."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return set(available), set(available)
    return {available[0]}, set(available[1:2])


# --- replies ---------------------------------------------------------------------------------------------

def tokens(rid: int, count: int, shape: str = "prose") -> list[str]:
    """`count` tokens of reply `rid`. prose: a paragraph every 40 tokens; code: one python block, 8 per line;
    flat: one paragraph (worst case for the block splitter)."""
    out = [f"r{rid:02d} "]
    if shape == "code":
        out[0] = f"r{rid:02d}\n\n```python\n"
    for seq in range(1, count):
        end = " "
        if shape == "prose" and seq % 40 == 0:
            end = "\n\n"
        elif shape == "code" and seq % 8 == 0:
            end = "\n"
        out.append(f"t{seq:04d}{end}")
    if shape == "code":
        out[-1] = out[-1].rstrip() + "\n```\n"
    return out


@dataclass
class Emission:
    arrived: float = 0.0  # the app's request has been read (time.time())
    emitted: list[float] = field(default_factory=list)  # token i written to the socket


class TimedChunks:
    """A Reply's chunks that record when each token is written and keep a fixed schedule (no sleep drift)."""

    def __init__(self, pieces: list[str], interval_s: float, record: Emission, first_delay_s: float = 0.0) -> None:
        self.chunks = [openai_chunk({"content": piece}) for piece in pieces]
        self.interval_s = interval_s
        self.first_delay_s = first_delay_s
        self.record = record

    def __iter__(self) -> Iterator[bytes | float]:
        arrived = self.record.arrived = time.time()
        yield openai_chunk({"role": "assistant", "content": ""})
        start = arrived + self.first_delay_s
        for index, chunk in enumerate(self.chunks):
            wait = start + index * self.interval_s - time.time()  # below zero when nothing is to wait for
            if wait > 0:
                yield wait
            self.record.emitted.append(time.time())
            yield chunk  # written by the server right after this yield
        yield openai_chunk({}, finish="stop")
        yield openai_chunk(usage=(12, len(self.chunks)))
        yield DONE


class Model:
    """The scripted server in its thread; `script` queues one reply per request and returns its reply id."""

    def __init__(self, folder: Path) -> None:
        # Keeps connections open, as hosted APIs do; answers the app's health checks by itself.
        self.server = ThreadedServer(keep_alive=True)
        self.config = folder / "llms.yml"
        self.config.write_text(
            f"models:\n  - name: Scripted\n    provider: openai\n    base_url: {self.server.server.base_url}/v1\n"
            "    api_key: sk-bench\n    model_name: scripted-1\n    context_window: 200000\n"
        )
        self.emissions: dict[int, Emission] = {}
        self.next_rid = 0

    def script(self, count: int, interval_s: float = 0.0, shape: str = "prose",
               first_delay_s: float = 0.0) -> tuple[int, int]:
        """Queue a reply of `count` tokens, the first after `first_delay_s` (a model's time to first token), the
        others `interval_s` apart; returns (reply id, bytes of its text)."""
        rid = self.next_rid = self.next_rid + 1
        pieces = tokens(rid, count, shape)
        record = self.emissions[rid] = Emission()
        self.server.script(Reply(200, TimedChunks(pieces, interval_s, record, first_delay_s)))  # type: ignore[arg-type]
        return rid, len("".join(pieces).encode())

    def stop(self) -> None:
        self.server.stop()


# --- the app ---------------------------------------------------------------------------------------------

class App:
    def __init__(self, folder: Path, model: Model, app_cores: set[int], home_cores: set[int],
                 app_root: Path | None, **settings: str) -> None:
        # No title requests: they would be one more call to the scripted model per tab, and not streaming.
        env = {"LLM_CONFIG_FILE": str(model.config), "HEALTH_CHECK_INTERVAL_S": "3600",
               "OLLAMA_BASE_URL": "http://127.0.0.1:9", "TITLES_BY_MODEL": "false", **settings}
        if app_root is not None:  # a scratch copy of the app, for prototypes
            env["PYTHONPATH"] = str(app_root)
        self.process = AppProcess(folder, ["--test-mode"], env)
        os.sched_setaffinity(0, app_cores)  # the child inherits the affinity of the thread that forks it
        try:
            self.process.start(timeout=60)
        finally:
            os.sched_setaffinity(0, home_cores)
        assert self.process.process is not None
        self.pid = self.process.process.pid
        self.url = self.process.url
        self.port = self.process.port

    def cpu_s(self) -> float:
        """User + system CPU seconds of the app so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICK

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def wire_bytes_sent(self) -> dict[str, int]:
        """TCP payload bytes the app has sent so far on each open connection of its port (WebSocket frames as
        compressed on the wire, with their framing), by peer address; subtract two with `wire_delta`."""
        out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{self.port} )"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        found = re.findall(rf"\S+:{self.port}\s+(\S+)[^\n]*\n[^\n]*?bytes_sent:(\d+)", out)
        return {peer: int(sent) for peer, sent in found}

    def stop(self) -> None:
        self.process.stop()


def cores_busy_s(which: set[int]) -> float:
    """Seconds the cores `which` have spent busy (not idle or waiting on I/O) since boot, from /proc/stat."""
    busy = 0.0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in which:
            ticks = [int(v) for v in values]
            busy += sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait (guest time is in user)
    return busy / CLOCK_TICK


def wire_delta(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(sent - before.get(peer, 0) for peer, sent in after.items())


class CpuMeter:
    """with CpuMeter(app) as cpu: …  then cpu.seconds."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.seconds = 0.0

    def __enter__(self) -> CpuMeter:
        self.start = self.app.cpu_s()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = self.app.cpu_s() - self.start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return percentile(values, 0.5)
