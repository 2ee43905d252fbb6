"""What a server may send on its own during a connection: elicitation requests, log messages, notices.

Each is routed to the call it belongs to (see `call_scope`). An elicitation nobody can answer is declined, never
left hanging: the call that asked then decides what declining means.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import mcp.types as types
from mcp.client.context import ClientRequestContext

from galaxy_chat.mcp.call_scope import ActiveCall, deliver, find_call, invoke

log = logging.getLogger(__name__)

ACTIONS = ("accept", "decline", "cancel")
MAX_LOG_CHARS = 2_000


class ServerCallbacks:
    """The SDK callbacks of one server's connection."""

    def __init__(self, server_id: str, in_flight: set[ActiveCall], on_tools_changed: Callable[[], None]) -> None:
        self.server_id = server_id
        self.in_flight = in_flight
        self.on_tools_changed = on_tools_changed
        self.transport_errors = 0

    async def on_elicit(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        call = find_call(self.server_id, self.in_flight, lambda c: c.elicit is not None)
        if call is None or call.elicit is None:
            log.info("mcp %s: declined an elicitation: no call in flight can ask the person", self.server_id)
            return types.ElicitResult(action="decline")
        if isinstance(params, types.ElicitRequestURLParams):
            log.info("mcp %s/%s: declined a URL elicitation (not offered here)", self.server_id, call.tool)
            return types.ElicitResult(action="decline")
        action, content = await self._ask(call, params.message, dict(params.requested_schema))
        return types.ElicitResult(action=action, content=content if action == "accept" else None)

    async def _ask(self, call: ActiveCall, message: str, schema: dict[str, Any]) -> tuple[Any, Any]:
        assert call.elicit is not None
        call.pause_clock()
        try:
            with anyio.move_on_after(call.timeout_s) as waiting:
                answer = await invoke(call.elicit, message, schema)
            if waiting.cancelled_caught:
                log.info("mcp %s/%s: no answer within %g s; declined", self.server_id, call.tool, call.timeout_s)
                return "decline", None
        except Exception:
            log.exception("mcp %s/%s: the elicit callback raised; declined", self.server_id, call.tool)
            return "decline", None
        finally:
            call.resume_clock()
        action, content = answer if isinstance(answer, tuple) and len(answer) == 2 else (None, None)
        if action not in ACTIONS or (content is not None and not isinstance(content, dict)):
            log.warning("mcp %s/%s: the elicit callback answered %r; declined", self.server_id, call.tool, answer)
            return "decline", None
        return action, content

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        data = params.data if isinstance(params.data, str) else json.dumps(params.data, default=str)
        text = (f"{params.logger}: {data}" if params.logger else data)[:MAX_LOG_CHARS]
        call = find_call(self.server_id, self.in_flight, lambda c: c.on_log is not None)
        if call is None:
            log.debug("mcp %s log (%s): %s", self.server_id, params.level, text)
            return
        await deliver(call, "log", call.on_log, str(params.level), text)

    async def on_message(self, message: Any) -> None:
        if isinstance(message, Exception):
            # Transport faults surface here too; the connection's owner sees the ones that end it.
            self.transport_errors += 1
            if self.transport_errors <= 3:
                log.warning("mcp %s: transport error: %r", self.server_id, message)
            return
        if isinstance(message, types.ToolListChangedNotification):
            self.on_tools_changed()
