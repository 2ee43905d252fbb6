"""One MCP server's connection: a single owner task opens it, keeps its tool list and reconnects when it breaks.

The owner task enters and exits the transport and the SDK `Client` itself (their anyio task groups must be left
in the task that entered them); calls from any other task go through the entered client. A connection ends when
the server stops, a call reports it gone ("connection closed", "session not found"), or `stop()` is asked; then
the owner reconnects after an exponential back-off with jitter. The tool list is read at connect and again when
the server says it changed: `notifications/tools/list_changed` on a handshake-era connection, a
`subscriptions/listen` stream on a 2026-07-28 one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

import anyio
import mcp.types as types
from mcp import Client
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from galaxy_chat.mcp.call_scope import ActiveCall
from galaxy_chat.mcp.http_transport import http_transport
from galaxy_chat.mcp.server_callbacks import ServerCallbacks
from galaxy_chat.mcp.server_config import McpServerConfig
from galaxy_chat.mcp.state import ServerState, select_tools
from galaxy_chat.mcp.stdio_transport import StdioProcess, stdio_transport
from galaxy_chat.mcp.tool_guard import ToolListGuard

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 60.0
STABLE_AFTER_S = 10.0  # a connection that lived this long resets the back-off
MAX_LIST_PAGES = 20


def describe(exc: BaseException) -> str:
    """One line for a failure, unwrapping the exception groups anyio raises."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class ServerConnection:
    """The connection to one server and its state; `run()` is the owner task's body."""

    def __init__(self, config: McpServerConfig, on_change: Callable[[ServerState], None]) -> None:
        self.config = config
        self._on_change = on_change
        self.in_flight: set[ActiveCall] = set()
        self.client: Client | None = None
        # asyncio events, not anyio ones: they can be made before the event loop runs (the app builds this
        # at import time); every SDK scope is anyio, which runs on the same asyncio loop.
        self.changed = asyncio.Event()  # set and replaced on every state change
        self._stopping = False
        self._done = asyncio.Event()  # set to end the current connection
        self._broken_reason = ""
        self._tools_changed = asyncio.Event()
        self.retry_at: float | None = None  # anyio clock time of the next attempt while failed
        self._guard = ToolListGuard(config.id)
        self._process: StdioProcess | None = None
        self.callbacks = ServerCallbacks(config.id, self.in_flight, self._tools_changed_notice)
        status = "connecting" if config.enabled else "disabled"
        self.state = ServerState(config.id, config.description, config.transport, status,
                                 reason="" if config.enabled else (config.unavailable_reason
                                                                   or "disabled in the configuration"))

    def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self.changed.set()
        self.changed = asyncio.Event()
        try:
            self._on_change(self.state)
        except Exception:
            log.exception("mcp %s: the change callback raised", self.config.id)

    def stop(self) -> None:
        self._stopping = True
        self._done.set()

    def mark_broken(self, reason: str) -> None:
        """A call saw the connection fail: end it so the owner reconnects."""
        if not self._done.is_set():
            self._broken_reason = reason
            self._done.set()
            self.client = None  # new calls wait for the next connection instead of using this one
            if not self._stopping:
                self._set(status="connecting", reason=f"reconnecting: {reason}")

    def _tools_changed_notice(self) -> None:
        self._tools_changed.set()

    async def run(self) -> None:
        """Connect, serve, reconnect; until `stop()`."""
        if not self.config.enabled:
            return
        attempt = 0
        while not self._stopping:
            self._done = asyncio.Event()
            self._broken_reason = ""
            started = anyio.current_time()
            reason = await self._connect_and_serve()
            if self._stopping:
                break
            if anyio.current_time() - started >= STABLE_AFTER_S:
                attempt = 0
            delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            log.warning("mcp %s: %s; reconnecting in %.1f s", self.config.id, reason, delay)
            self._set(status="failed", reason=f"{reason}; retrying in {delay:.0f} s", last_error=reason,
                      reconnects=self.state.reconnects + 1)
            self.retry_at = anyio.current_time() + delay
            with anyio.move_on_after(delay):
                await self._done.wait()
            self.retry_at = None
        self._set(status="disabled", reason="stopped", tools=())

    async def _connect_and_serve(self) -> str:
        """One connection's life; returns why it ended."""
        self._set(status="connecting", reason=f"starting {self._target()}")
        connected = False
        try:
            with anyio.CancelScope() as life:
                # The whole life sits in this scope (entering a client inside a shorter timeout scope and
                # leaving that scope first would tear anyio's scope nesting), so the connect timeout is a
                # deadline that is lifted once the server has answered.
                life.deadline = anyio.current_time() + self.config.connect_timeout_s
                async with self._client() as client:
                    await self._refresh_tools(client)
                    life.deadline = float("inf")
                    connected = True
                    self.client = client
                    self._set(status="connected", reason="", protocol_version=client.protocol_version,
                              server_name=client.server_info.name if client.server_info else None)
                    log.info("mcp %s: connected (%s, %d tools)", self.config.id, client.protocol_version,
                             self.state.tool_count)
                    await self._serve(client)
            if life.cancelled_caught and not connected:
                return f"no answer within {self.config.connect_timeout_s:g} s{self._stderr_hint()}"
        except Exception as exc:
            reason = self._broken_reason or self.end_detail() or describe(exc)
            return reason if connected else f"cannot connect: {reason}{self._stderr_hint()}"
        finally:
            self.client = None
        return self._broken_reason or self.end_detail() or "the connection ended"

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[Client]:
        async with AsyncExitStack() as stack:
            if self.config.transport == "stdio":
                self._process = StdioProcess(self.config.id)
                streams = await stack.enter_async_context(stdio_transport(self.config, self._process))
            else:
                streams = await stack.enter_async_context(http_transport(self.config))
            client = Client(
                _Entered(self._guard.wrap(streams)),
                mode="legacy" if self.config.protocol == "legacy" else "auto",
                cache=None,  # the list is re-read on change notices; a TTL cache would only hide changes
                client_info=types.Implementation(name="galaxy-chat", version="1"),
                elicitation_callback=self.callbacks.on_elicit,
                logging_callback=self.callbacks.on_log,
                message_handler=self.callbacks.on_message,
            )
            yield await stack.enter_async_context(client)

    async def _serve(self, client: Client) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._refresh_on_change, client)
            caps = client.server_capabilities.tools
            if client.protocol_version in MODERN_PROTOCOL_VERSIONS and caps is not None and caps.list_changed:
                group.start_soon(self._listen, client)
            if self._process is not None:
                group.start_soon(self._watch_process, self._process)
            await self._done.wait()
            group.cancel_scope.cancel()

    async def _watch_process(self, process: StdioProcess) -> None:
        await process.ended.wait()
        self.mark_broken(process.describe_end())

    async def _listen(self, client: Client) -> None:
        """Follow a 2026-07-28 server's tool-list changes on a `subscriptions/listen` stream.

        A lost stream is listened to again (with back-off) and the list re-read, since events are not replayed;
        a dead server is noticed by its transport or its process, not here.
        """
        delay = 1.0
        while True:
            try:
                async with client.listen(tools_list_changed=True) as subscription:
                    delay = 1.0
                    async for _event in subscription:
                        self._tools_changed.set()
            except (ListenNotSupportedError, MCPError) as exc:
                log.info("mcp %s: no tool-list change stream (%s)", self.config.id, describe(exc))
                return
            except SubscriptionLost as exc:
                log.info("mcp %s: tool-list change stream lost (%s); listening again", self.config.id, describe(exc))
            await anyio.sleep(delay)
            delay = min(30.0, delay * 2)
            self._tools_changed.set()

    async def _refresh_on_change(self, client: Client) -> None:
        while True:
            await self._tools_changed.wait()
            self._tools_changed = asyncio.Event()
            await anyio.sleep(0.05)  # one re-list for a burst of notices
            try:
                with anyio.fail_after(self.config.connect_timeout_s):
                    await self._refresh_tools(client)
            except Exception as exc:
                log.warning("mcp %s: re-listing tools failed: %s", self.config.id, describe(exc))
                self._set(last_error=f"re-listing tools failed: {describe(exc)}")

    async def _refresh_tools(self, client: Client) -> None:
        listed: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):  # a server that pages forever must not hang the connection
            page = await client.list_tools(cursor=cursor)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        tools, notes, left_out = select_tools(self.config, listed, dict(self._guard.dropped))
        for note in notes:
            log.info("mcp %s: %s", self.config.id, note)
        self._set(tools=tools, notes=notes, left_out=left_out)

    def _target(self) -> str:
        return f"`{self.config.command}`" if self.config.transport == "stdio" else str(self.config.url)

    def end_detail(self) -> str:
        """How the stdio child ended (exit code, last stderr line), when it has."""
        process = self._process
        return process.describe_end() if process is not None and process.ended.is_set() else ""

    def _stderr_hint(self) -> str:
        process = self._process
        if process is None or not process.stderr_tail:
            return ""
        return f" (stderr: {process.stderr_tail[-1]})"


class _Entered:
    """Hands already-entered streams to `Client`, which expects a transport to enter."""

    def __init__(self, streams: tuple[Any, Any]) -> None:
        self._streams = streams

    async def __aenter__(self) -> tuple[Any, Any]:
        return self._streams

    async def __aexit__(self, *exc_info: object) -> None:
        return None
