"""The tools of the MCP test server: one per behaviour the client must handle (text, media, progress, faults…)."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
import zlib
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import (
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

COUNTERS = {"calls": 0, "cancelled": 0, "slow_started": 0}


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG made by hand, so the server needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Sale(TypedDict):
    month: str
    revenue: float


class Confirm(BaseModel):
    ok: bool = Field(description="Go ahead?")
    note: str = Field(default="", description="Anything to add")


async def ask_confirmation(question: str) -> Elicit[Confirm]:
    # A resolver, not ctx.elicit(): the SDK then asks on both protocol eras (a pushed request on a
    # handshake-era connection, an input-required round trip on a 2026 one).
    return Elicit(question, Confirm)


def register_tools(mcp: MCPServer) -> None:
    """Every behaviour-tool of the test server."""

    @mcp.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        COUNTERS["calls"] += 1
        return text

    @mcp.tool()
    def image() -> list[ImageContent | TextContent]:
        """A tiny PNG and a caption."""
        data = base64.b64encode(tiny_png()).decode()
        return [ImageContent(type="image", data=data, mime_type="image/png"), TextContent(type="text", text="a dot")]

    @mcp.tool()
    def jpeg() -> ImageContent:
        """An image that is not a PNG (a JPEG's opening bytes: what the page checks before showing it)."""
        return ImageContent(type="image", data=base64.b64encode(b"\xff\xd8\xff fake").decode(), mime_type="image/jpeg")

    @mcp.tool()
    def mislabelled() -> ImageContent:
        """Bytes that claim to be a PNG and are not one."""
        data = base64.b64encode(b"<svg onload=alert(1)>").decode()
        return ImageContent(type="image", data=data, mime_type="image/png")

    @mcp.tool()
    def sales(months: int = 3) -> list[Sale]:
        """Monthly revenue records (structured output)."""
        return [Sale(month=f"2024-{i + 1:02d}", revenue=100.0 * (i + 1)) for i in range(months)]

    @mcp.tool()
    def settings() -> dict[str, Any]:
        """A nested object (structured output that is not a table)."""
        return {"name": "demo", "limits": {"rows": 10, "tags": ["a", "b"]}}

    @mcp.tool()
    def fail(message: str = "it broke") -> str:
        """Always fails with the given message."""
        raise ToolError(message)

    @mcp.tool()
    async def progress(steps: int = 3, with_total: bool = True, ctx: Context | None = None) -> str:
        """Report progress `steps` times, with or without a total."""
        assert ctx is not None
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps if with_total else None, f"step {step}")
            await anyio.sleep(0.01)
        return f"done {steps} steps"

    @mcp.tool()
    async def slow(seconds: float = 30.0) -> str:
        """Sleep, counting cancellations (read them back with `stats`)."""
        COUNTERS["slow_started"] += 1
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            COUNTERS["cancelled"] += 1
            raise
        return f"slept {seconds} s"

    @mcp.tool()
    def stats() -> dict[str, int]:
        """Counters of this server process."""
        return dict(COUNTERS)

    @mcp.tool()
    def crash() -> str:
        """The process exits at once, mid-call."""
        os._exit(3)

    @mcp.tool()
    async def ask(
        question: str, answer: Annotated[ElicitationResult[Confirm], Resolve(ask_confirmation)], delay: float = 0.0
    ) -> str:
        """Ask the person a question (elicitation), work `delay` seconds more, and report the answer."""
        await anyio.sleep(delay)
        if isinstance(answer, AcceptedElicitation):
            return f"accepted ok={answer.data.ok} note={answer.data.note}"
        return answer.action

    @mcp.tool()
    async def add_tool(name: str, ctx: Context) -> str:
        """Register a new tool and announce that the tool list changed."""

        def added() -> str:
            return f"I am {name}"

        mcp.add_tool(added, name=name, description=f"added at run time: {name}")
        await ctx.notify_tools_changed()  # 2026 connections hear it on their subscriptions/listen stream
        if ctx.protocol_version and ctx.protocol_version < "2026":
            await ctx.session.send_tool_list_changed()  # handshake-era connections hear a notification
        return f"added {name}"

    @mcp.tool()
    def huge(megabytes: float = 10.0) -> str:
        """A text result of the given size."""
        line = "0123456789abcdef" * 4 + "\n"
        return line * int(megabytes * 1024 * 1024 / len(line))

    @mcp.tool()
    async def whoami(delay: float = 0.0, ctx: Context | None = None) -> str:
        """The identity header this request carried (HTTP only), after an optional delay."""
        assert ctx is not None
        headers = ctx.headers or {}
        await anyio.sleep(delay)
        return headers.get("x-email-user", "<none>")

    @mcp.tool()
    async def chatty(lines: int = 2, ctx: Context | None = None) -> str:
        """Send log messages to the client during the call."""
        assert ctx is not None
        for index in range(lines):
            await ctx.info(f"log line {index + 1}")
        return f"logged {lines}"

    @mcp.tool()
    def resources() -> list[EmbeddedResource | ResourceLink | TextContent]:
        """An embedded text resource, an embedded binary one and a link."""
        csv_text = TextResourceContents(uri="file:///report.csv", mime_type="text/csv", text="a,b\n1,2\n")
        markdown = TextResourceContents(uri="notes://summary.md", mime_type="text/markdown", text="# Summary\nAll ok.")
        blob = BlobResourceContents(
            uri="file:///data.bin", mime_type="application/octet-stream", blob=base64.b64encode(b"\x00\x01").decode()
        )
        return [
            TextContent(type="text", text="three resources"),
            EmbeddedResource(type="resource", resource=csv_text),
            EmbeddedResource(type="resource", resource=markdown),
            EmbeddedResource(type="resource", resource=blob),
            ResourceLink(type="resource_link", uri="https://example.org/doc", name="doc", description="a document"),
        ]

    @mcp.tool()
    def spawn_grandchild() -> int:
        """Start a grandchild that ignores SIGTERM and outlives this server unless its process group is killed."""
        code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        return child.pid

    @mcp.tool()
    def pid() -> int:
        """This server's process id."""
        return os.getpid()


def register_many(mcp: MCPServer, count: int) -> None:
    """`count` trivial tools, for the tool-list cap."""
    for index in range(count):

        def numbered(index: int = index) -> str:
            return f"tool {index}"

        mcp.add_tool(numbered, name=f"t{index:03d}", description=f"numbered tool {index}")
