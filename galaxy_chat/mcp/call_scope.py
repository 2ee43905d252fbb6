"""The call in flight: who asked, where its progress/log/elicitation go, and how a server request finds it.

One connection per server is shared by every person's calls, so a message the server sends during a call must be
routed to the right call. Progress carries the request's progress token, so the SDK routes it per call. Log
messages and elicitation requests carry no request id on the wire; the SDK, however, runs their handlers in the
context of the task that sent the request whenever it can tell (a 2026-07-28 elicitation is an input-required
round trip driven inside `call_tool`, and over streamable HTTP the messages of a call arrive on that call's own
response stream). So the call is kept in a ContextVar, and only where that context is lost (a handshake-era stdio
connection) the one call in flight that can take the message gets it; with several such calls nobody does.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

log = logging.getLogger(__name__)

ElicitAction = Literal["accept", "decline", "cancel"]
ProgressFn = Callable[[float, float | None, str | None], Awaitable[None] | None]
LogFn = Callable[[str, str], Awaitable[None] | None]
ElicitFn = Callable[[str, dict[str, Any]], Awaitable[tuple[ElicitAction, dict[str, Any] | None]]]


@dataclass(eq=False)
class ActiveCall:
    """One `tools/call` while it runs."""

    server_id: str
    tool: str
    timeout_s: float
    user_email: str | None = None
    on_progress: ProgressFn | None = None
    on_log: LogFn | None = None
    elicit: ElicitFn | None = None
    done: bool = False
    deadline_scope: anyio.CancelScope | None = field(default=None, repr=False)
    _paused_left: float | None = field(default=None, repr=False)

    def pause_clock(self) -> None:
        """Stop the call's timeout while a person answers a question (their time is not the server's)."""
        scope = self.deadline_scope
        if scope is not None and self._paused_left is None:
            self._paused_left = max(0.0, scope.deadline - anyio.current_time())
            scope.deadline = float("inf")

    def resume_clock(self) -> None:
        scope = self.deadline_scope
        if scope is not None and self._paused_left is not None:
            scope.deadline = anyio.current_time() + self._paused_left
            self._paused_left = None


ACTIVE_CALL: ContextVar[ActiveCall | None] = ContextVar("galaxy_chat_mcp_active_call", default=None)


def find_call(server_id: str, in_flight: set[ActiveCall], wants: Callable[[ActiveCall], bool]) -> ActiveCall | None:
    """The call a server message belongs to: the one in this task's context, else the only candidate."""
    current = ACTIVE_CALL.get()
    if current is not None and current.server_id == server_id and not current.done:
        return current if wants(current) else None
    candidates = [call for call in in_flight if not call.done and wants(call)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        log.info("mcp %s: %d calls in flight could take a server message; delivering it to none",
                 server_id, len(candidates))
    return None


async def invoke(callback: Callable[..., Awaitable[Any] | Any], *args: Any) -> Any:
    """Call a sync or async callback."""
    result = callback(*args)
    if inspect.isawaitable(result):
        return await result
    return result


async def deliver(call: ActiveCall, what: str, callback: Callable[..., Any] | None, *args: Any) -> None:
    """Hand a progress or log message to the call's callback; late or failing deliveries are dropped."""
    if callback is None or call.done:
        return  # progress can arrive after the result: the call's card is already final
    try:
        await invoke(callback, *args)
    except Exception:
        log.exception("mcp %s/%s: the %s callback raised", call.server_id, call.tool, what)
