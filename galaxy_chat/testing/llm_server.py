"""A real HTTP server on 127.0.0.1 that speaks whatever a test scripts, byte for byte.

Replies are written as separate TCP writes (with optional pauses), so tests can split SSE lines across
chunks, stall mid-stream, or drop the connection. Requests are recorded for assertions. By default each
reply ends by closing the connection; `keep_alive=True` sends bodies chunked and keeps the connection for
the next request, as hosted APIs do (the benchmark's model).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int = 200
    chunks: list[bytes | float] = field(default_factory=list)  # bytes are written, floats are pauses (s)
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    abort: bool = False  # drop the connection after the chunks instead of closing it cleanly

    @classmethod
    def json(cls, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, [json.dumps(body).encode()], {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer:
    def __init__(self, keep_alive: bool = False) -> None:
        self.keep_alive = keep_alive
        self.queue: deque[Reply] = deque()
        self.routes: dict[tuple[str, str], Reply] = {}
        self.rules: list[tuple[Callable[[Recorded], bool], Reply]] = []
        self.requests: list[Recorded] = []
        self.open_connections = 0
        self.connections = 0  # accepted so far
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.base_url = ""

    def script(self, *replies: Reply) -> None:
        """Replies for the next requests, in order, whatever their path."""
        self.queue.extend(replies)

    def route(self, method: str, path: str, reply: Reply) -> None:
        """A standing reply for every request to `method path` (checked before the queue)."""
        self.routes[(method.upper(), path)] = reply

    def when(self, matches: Callable[[Recorded], bool], reply: Reply) -> None:
        """A standing reply for every request `matches` accepts (checked first)."""
        self.rules.append((matches, reply))

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # Server.close_clients() exists only from Python 3.13
                writer.transport.abort()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        self.connections += 1
        self._writers.add(writer)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_connections -= 1
            self._writers.discard(writer)
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        path = target.split("?", 1)[0]
        recorded = Recorded(method, path, headers, body)
        self.requests.append(recorded)
        reply = next((rule for matches, rule in self.rules if matches(recorded)), None)
        reply = reply or self.routes.get((method, path)) or (self.queue.popleft() if self.queue else None)
        if reply is None:
            reply = Reply.json({"error": {"message": f"nothing scripted for {method} {path}"}}, status=500)
        chunked = self.keep_alive and not reply.abort
        framing = "Transfer-Encoding: chunked" if chunked else "Connection: close"
        lines = [f"HTTP/1.1 {reply.status} X", *(f"{k}: {v}" for k, v in reply.headers.items()), framing]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        for chunk in reply.chunks:
            if isinstance(chunk, float | int):
                await asyncio.sleep(chunk)
            elif chunk:
                writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                await writer.drain()
        if reply.abort:
            writer.transport.abort()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return chunked  # without chunks, the body is delimited by closing the connection


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; `data` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {payload}\n\n".encode()


def is_health_check(request: Recorded) -> bool:
    """The app's model health check (\"hi\", at most 3 tokens), which tests answer with a standing rule."""
    try:
        body = request.json()
    except ValueError:
        return False
    return body.get("max_tokens") == 3 and body.get("messages") == [{"role": "user", "content": "hi"}]


def is_title_request(request: Recorded) -> bool:
    """The app asking a model for a chat's title in the background (core/titles.py)."""
    try:
        messages = request.json().get("messages") or []
    except ValueError:
        return False
    return bool(messages) and str(messages[0].get("content", "")).startswith("Write a title of at most six words")


def is_chat_request(request: Recorded) -> bool:
    """A request for a chat's reply: neither a health check nor a title request."""
    return not is_health_check(request) and not is_title_request(request)
