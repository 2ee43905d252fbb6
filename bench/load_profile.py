"""Where the app's time goes while replies stream: py-spy samples, summed by area (bench/load_client.py --profile)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-d", str(int(seconds)),
               "-r", "250", "-f", "raw", "-o", str(out), "--nonblocking", "--gil"]  # --gil: samples that run Python
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(out.parent / "py-spy.log").open("wb"))


STORE, MODEL, PAGE = "history store (SQLAlchemy, aiosqlite)", "reading the model's stream (httpx)", "the page"
SOCKET = "socket.io and the WebSocket"
AREAS = [  # a sample counts for the first of these found from the innermost frame outwards
    ("galaxy_chat/store/", STORE), ("aiosqlite/", STORE), ("sqlalchemy/", STORE),
    ("galaxy_chat/llm/", MODEL), ("httpx/", MODEL), ("httpcore/", MODEL), ("h11/", MODEL), ("anyio/", MODEL),
    ("galaxy_chat/ui/", PAGE), ("markdown/", PAGE), ("nh3", PAGE), ("nicegui/", "NiceGUI (outbox, elements)"),
    ("socketio/", SOCKET), ("engineio/", SOCKET), ("wsproto/", SOCKET), ("uvicorn/", SOCKET),
    ("galaxy_chat/core/session_log", "session log"), ("galaxy_chat/core/", "core (engine, session, recorder)"),
    ("asyncio/", "event loop"), ("selectors.py", "event loop"),
]


def frame_file(frame: str) -> str:
    return frame.partition(" (")[2].rsplit(":", 1)[0]


def hot_spots(raw: Path) -> list[tuple[str, float]]:
    """From py-spy's collapsed stacks: each area's share of all samples (see AREAS)."""
    areas: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a stack py-spy could not end cleanly (the process moved on mid-sample)
            continue
        files = [frame_file(frame) for frame in reversed(stack.split(";"))]
        total += int(count)
        area = next((label for file in files for prefix, label in AREAS if prefix in file), "other")
        areas[area] += int(count)
    return [(name, c / max(1, total)) for name, c in areas.most_common()]
