"""Reading what a sandboxed run sends back, incrementally and capped: 100 MB of output costs no memory."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 64 * 1024
TAIL = 4 * 1024  # the end of a long stream is kept too: that is where a traceback's last line is
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRUNCATED = "[output truncated]"


class ChildProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Also says when the process itself exits: on Python 3.11, `Process.wait()` waits for its pipes to close
    too, and a process the code left behind can hold them open."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=CHUNK, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


@dataclass
class Child:
    transport: asyncio.SubprocessTransport
    protocol: ChildProtocol

    @property
    def pid(self) -> int:
        return self.transport.get_pid()

    @property
    def returncode(self) -> int | None:
        return self.transport.get_returncode()


async def spawn(argv: list[str], **options: Any) -> Child:
    """Start `argv` with pipes for stdin, stdout and stderr (asyncio: the event loop never blocks)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_exec(
        lambda: ChildProtocol(loop), *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        **options)
    return Child(transport, protocol)


class Capture:
    """Keeps the first `limit - TAIL` bytes and the last TAIL bytes of a stream, counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tail_size = max(1, min(TAIL, limit // 4))
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail = (self.tail + chunk)[-self.tail_size:]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        if not self.truncated:
            return self.head.decode(errors="replace")
        head = self.head[: self.limit - self.tail_size]
        omitted = self.total - len(head) - len(self.tail)
        return (f"{head.decode(errors='replace')}\n{TRUNCATED} {omitted} bytes omitted (of {self.total})\n"
                f"{self.tail.decode(errors='replace')}")


async def drain(stream: asyncio.StreamReader | None, capture: Capture) -> None:
    """Read to the end, keeping only what `capture` keeps (so the writer never blocks on a full pipe)."""
    if stream is None:
        return
    while chunk := await stream.read(CHUNK):
        capture.feed(chunk)


async def read_fd(fd: int, capture: Capture) -> None:
    """Like `drain`, for a raw pipe end (the report channel); closes it."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    try:
        await drain(reader, capture)
    finally:
        transport.close()


async def feed_stdin(stream: asyncio.StreamWriter | None, data: bytes) -> None:
    if stream is None:
        return
    try:
        stream.write(data)
        await stream.drain()
        stream.close()
    except (BrokenPipeError, ConnectionResetError):  # the run ended before reading its code
        pass


@dataclass
class Report:
    """The runner's report, checked: a figure (plotly JSON text), PNG images, notes."""

    figure: str | None = None
    images: list[tuple[str, bytes]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_report(capture: Capture, max_images: int, image_bytes: int) -> Report:
    """The channel is writable by the code itself: treat it as untrusted, keep only what checks out."""
    if capture.total == 0:
        return Report()
    if capture.truncated:
        return Report(notes=["the figure and images were too large to return"])
    try:
        data = json.loads(capture.head)
    except (ValueError, UnicodeDecodeError):
        return Report(notes=["the figure and images could not be read back"])
    if not isinstance(data, dict):
        return Report(notes=["the figure and images could not be read back"])
    report = Report(notes=[str(note)[:300] for note in data.get("notes") or [] if note][:10])
    figure = data.get("figure")
    if isinstance(figure, str):
        try:
            if isinstance(json.loads(figure), dict):
                report.figure = figure
        except ValueError:
            report.notes.append("`fig` could not be read back")
    for item in (data.get("images") or [])[:max_images]:
        try:
            png = base64.b64decode(item["png"], validate=True)
            name = Path(str(item["name"])).name[:100]
        except (KeyError, TypeError, ValueError, binascii.Error):
            continue
        if png.startswith(PNG_SIGNATURE) and len(png) <= image_bytes:
            report.images.append((name, png))
    return report


def tree_size(root: Path) -> int:
    """Bytes in a directory tree (symlinks not followed): the fallback's working dir has no tmpfs cap."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue
    return total
