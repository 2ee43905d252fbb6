"""One tool call on a server's shared connection: timeout, cancellation, routing, and failures as outcomes.

Nothing but cancellation leaves `run_call` as an exception: a hung call, a crashed server, a malformed result or
an unknown tool all become an error outcome with a clear reason. Cancelling the awaiting task (Stop) cancels the
SDK request, which sends `notifications/cancelled`; the connection stays up for the next call.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import mcp.types as types
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from galaxy_chat.mcp.call_scope import ACTIVE_CALL, ActiveCall, ElicitFn, LogFn, ProgressFn, deliver
from galaxy_chat.mcp.connection import ServerConnection, describe
from galaxy_chat.mcp.outcome import McpOutcome
from galaxy_chat.mcp.results import outcome_from_result
from galaxy_chat.observability import metrics

log = logging.getLogger(__name__)


def connection_lost(exc: MCPError) -> bool:
    """Errors that mean the connection, not the call, failed."""
    message = exc.error.message.lower()
    return exc.error.code == types.CONNECTION_CLOSED or (
        "session" in message and ("not found" in message or "terminated" in message))


async def wait_connected(conn: ServerConnection, timeout_s: float) -> Any:
    """The entered client, waiting while the server is (re)connecting; None when it is not reachable."""
    deadline = anyio.current_time() + timeout_s
    with anyio.move_on_after(timeout_s):
        while (conn.state.status == "connecting" or (conn.state.status == "connected" and conn.client is None)
               or (conn.state.status == "failed" and conn.retry_at is not None and conn.retry_at < deadline)):
            await conn.changed.wait()
    return conn.client if conn.state.status == "connected" else None


async def run_call(
    conn: ServerConnection, tool: str, arguments: dict[str, Any], *, timeout_s: float | None = None,
    user_email: str | None = None, on_progress: ProgressFn | None = None, elicit: ElicitFn | None = None,
    on_log: LogFn | None = None,
) -> McpOutcome:
    started = time.perf_counter()
    config = conn.config
    timeout = timeout_s if timeout_s is not None else config.timeout_s
    label = config.tool_name(tool)
    for attempt in (1, 2):
        client = await wait_connected(conn, min(timeout, config.connect_timeout_s))
        if client is None:
            state = conn.state
            why = state.reason or state.status
            return McpOutcome.error(f"MCP server `{config.id}` is not available: {why}", _since(started))
        if tool not in {offered.name for offered in conn.state.tools}:
            # Checked once connected: the allow-list and the cap hold for calls made while connecting too.
            return McpOutcome.error(f"`{config.id}` offers no tool `{tool}`", _since(started))
        call = ActiveCall(config.id, tool, timeout, user_email=user_email, on_progress=on_progress,
                          on_log=on_log, elicit=elicit)
        try:
            result = await _send(conn, client, call, arguments)
        except MCPError as exc:
            if not connection_lost(exc):
                return McpOutcome.error(f"`{label}` failed: {exc.error.message}", _since(started))
            lost = conn.end_detail() or exc.error.message
            conn.mark_broken(f"{exc.error.message} during a call")
            if attempt == 1 and "session" in exc.error.message.lower():
                # The server restarted and forgot the session: the request never ran, so sending it again
                # on the new connection is safe.
                log.info("mcp %s: %s; reconnecting and sending %s again", config.id, exc.error.message, tool)
                await anyio.sleep(0)
                continue
            text = f"`{label}` failed: the connection to `{config.id}` was lost during the call ({lost})"
            return McpOutcome.error(text, _since(started))
        except ValidationError as exc:
            log.warning("mcp %s/%s: malformed result: %s", config.id, tool, describe(exc))
            return McpOutcome.error(f"`{label}` returned a malformed result: {describe(exc)}", _since(started))
        except (TimeoutError, anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            conn.mark_broken(f"{describe(exc)} during a call")
            return McpOutcome.error(f"`{label}` failed: the connection broke ({describe(exc)})", _since(started))
        except Exception as exc:  # a bad server must never raise into the app
            log.warning("mcp %s/%s: call failed: %s", config.id, tool, describe(exc))
            return McpOutcome.error(f"`{label}` failed: {describe(exc)}", _since(started))
        if result is None:
            log.warning("mcp %s/%s: timed out after %g s", config.id, tool, timeout)
            metrics.TOOL_TIMEOUTS.labels("mcp", metrics.bounded("server", config.id)).inc()
            return McpOutcome.error(f"`{label}` timed out after {timeout:g} s (the server was asked to stop)",
                                    _since(started))
        outcome = outcome_from_result(result, label=label, max_chars=config.max_result_chars)
        outcome.elapsed_s = _since(started)
        return outcome
    raise AssertionError("unreachable: the loop returns")


async def _send(conn: ServerConnection, client: Any, call: ActiveCall, arguments: dict[str, Any]) -> Any:
    """The SDK call inside the call's deadline scope; None when the deadline passed."""

    async def progress(value: float, total: float | None, message: str | None) -> None:
        await deliver(call, "progress", call.on_progress, value, total, message)

    # 2026-07-28 servers send log messages only to requests that opt in, at or above the level asked for.
    meta = {types.LOG_LEVEL_META_KEY: "info"} if call.on_log is not None else None
    token = ACTIVE_CALL.set(call)
    conn.in_flight.add(call)
    try:
        with anyio.CancelScope() as scope:
            scope.deadline = anyio.current_time() + call.timeout_s
            call.deadline_scope = scope
            return await client.call_tool(
                call.tool, arguments, progress_callback=progress if call.on_progress else None, meta=meta)
        return None
    finally:
        call.done = True  # late progress (it can trail the result) is dropped from here on
        conn.in_flight.discard(call)
        ACTIVE_CALL.reset(token)


def _since(started: float) -> float:
    return time.perf_counter() - started
