"""`McpConnections`: every configured MCP server's connection in this process, and the calls made through them.

`start()` returns at once; each server is connected by its own owner task in the background, so a slow or
broken server never delays start-up. State per server (`states()`) is for `/ready` and the UI; `on_change` fires on
every change (connected, tools re-listed, failed) so the app can re-register tools.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from galaxy_chat.mcp.call_scope import ElicitFn, LogFn, ProgressFn
from galaxy_chat.mcp.calls import run_call
from galaxy_chat.mcp.connection import ServerConnection
from galaxy_chat.mcp.outcome import McpOutcome
from galaxy_chat.mcp.server_config import TOOL_SEPARATOR, McpServerConfig
from galaxy_chat.mcp.state import OfferedTool, ServerState

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


class McpConnections:
    """One connection per configured server, for the life of the process."""

    def __init__(
        self, servers: Sequence[McpServerConfig], *, on_change: Callable[[ServerState], None] | None = None
    ) -> None:
        self._on_change = on_change
        self._servers = {config.id: ServerConnection(config, self._changed) for config in servers}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    def _changed(self, state: ServerState) -> None:
        if self._on_change is not None:
            self._on_change(state)

    def start(self) -> None:
        """Begin connecting every enabled server in the background; returns immediately (needs a running loop)."""
        if self._stopped:
            raise RuntimeError("these MCP connections were stopped; make a new McpConnections")
        if self._tasks:
            return
        for server_id, connection in self._servers.items():
            if connection.config.enabled:
                self._tasks.append(asyncio.get_running_loop().create_task(
                    self._own(connection), name=f"mcp-{server_id}"))

    @staticmethod
    async def _own(connection: ServerConnection) -> None:
        try:
            await connection.run()
        except asyncio.CancelledError:
            raise
        except BaseException:  # the owner must never take the app down with it
            log.exception("mcp %s: the connection's owner task failed", connection.config.id)

    async def stop(self) -> None:
        """Close every connection (stdio children and their process groups are killed) and wait for it."""
        self._stopped = True
        for connection in self._servers.values():
            connection.stop()
        if not self._tasks:
            return
        _finished, pending = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
        for task in pending:
            log.warning("mcp: %s did not stop within %g s; cancelling it", task.get_name(), STOP_TIMEOUT_S)
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=STOP_TIMEOUT_S)
        self._tasks = []

    async def wait_settled(self, timeout_s: float) -> bool:
        """Wait until no enabled server is still connecting (first attempt); True when all settled in time."""
        async def settle(connection: ServerConnection) -> None:
            while connection.state.status == "connecting":
                await connection.changed.wait()

        pending = [settle(c) for c in self._servers.values() if c.config.enabled]
        if not pending:
            return True
        try:
            await asyncio.wait_for(asyncio.gather(*pending), timeout_s)
        except TimeoutError:
            return False
        return True

    def states(self) -> list[ServerState]:
        return [connection.state for connection in self._servers.values()]

    def state(self, server_id: str) -> ServerState:
        return self._servers[server_id].state

    def offered_tools(self) -> list[OfferedTool]:
        """Every tool of every connected server that is offered (allow-listed, valid, within the cap)."""
        return [tool for c in self._servers.values() if c.state.status == "connected" for tool in c.state.tools]

    def resolve(self, qualified_name: str) -> tuple[str, str] | None:
        """`server__tool` → (server id, tool name), when the server is configured."""
        server_id, separator, tool = qualified_name.partition(TOOL_SEPARATOR)
        return (server_id, tool) if separator and tool and server_id in self._servers else None

    async def call(
        self, server_id: str, tool_name: str, arguments: dict[str, Any] | None = None, *,
        timeout_s: float | None = None, user_email: str | None = None, on_progress: ProgressFn | None = None,
        elicit: ElicitFn | None = None, on_log: LogFn | None = None,
    ) -> McpOutcome:
        """Call one tool; failures come back as an error outcome, cancellation of the caller cancels the call."""
        connection = self._servers.get(server_id)
        if connection is None:
            return McpOutcome.error(f"no MCP server `{server_id}` is configured")
        if not connection.config.enabled:
            return McpOutcome.error(f"MCP server `{server_id}` is disabled")
        if not self._tasks:
            return McpOutcome.error("MCP connections are not started")
        return await run_call(connection, tool_name, arguments or {}, timeout_s=timeout_s, user_email=user_email,
                              on_progress=on_progress, elicit=elicit, on_log=on_log)
