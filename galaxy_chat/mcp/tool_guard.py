"""A filter between a transport and the SDK that removes tools with unusable schemas from `tools/list` answers.

The SDK validates a tools/list result as a whole: one tool whose input schema is not an object schema makes the
whole listing, and with it every call, fail. So each listed tool is checked here on its own (a JSON Schema that
compiles, `type: object` at the root, a valid output schema, a well-formed tool), and the bad ones are removed
before the SDK sees the message; their names and reasons are kept for the server's state and the log.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import mcp.types as types
from jsonschema import SchemaError
from jsonschema.validators import validator_for
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

log = logging.getLogger(__name__)


def schema_problem(schema: Any, *, root_object: bool) -> str | None:
    """Why a tool schema is unusable, or None."""
    if not isinstance(schema, dict):
        return f"the schema is {type(schema).__name__}, not an object"
    if root_object and schema.get("type") != "object":
        return f"the root type is {schema.get('type')!r}, not 'object'"
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "root"
        return f"not a valid JSON Schema at {where}: {exc.message[:160]}"
    except Exception as exc:  # a schema can crash the validator in odd ways; that is a bad schema too
        return f"not a valid JSON Schema: {exc!r}"[:200]
    return None


def tool_problem(tool: Any) -> str | None:
    """Why one entry of a tools/list result cannot be offered, or None."""
    if not isinstance(tool, dict):
        return "the entry is not an object"
    if not isinstance(tool.get("name"), str) or not tool["name"]:
        return "it has no name"
    problem = schema_problem(tool.get("inputSchema"), root_object=True)
    if problem is not None:
        return f"invalid input schema: {problem}"
    if tool.get("outputSchema") is not None:
        problem = schema_problem(tool["outputSchema"], root_object=False)
        if problem is not None:
            return f"invalid output schema: {problem}"
    try:
        types.Tool.model_validate(tool, by_name=False)
    except ValidationError as exc:
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return None


class ToolListGuard:
    """Wraps a transport's stream pair; remembers which tools the last listing lost and why."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self.dropped: dict[str, str] = {}
        self._listing_ids: dict[str, bool] = {}  # request id -> is it the first page

    def wrap(self, streams: tuple[Any, Any]) -> tuple[Any, Any]:
        read_stream, write_stream = streams
        return _GuardedRead(read_stream, self), _GuardedWrite(write_stream, self)

    def outgoing(self, item: Any) -> None:
        message = getattr(item, "message", None)
        if isinstance(message, types.JSONRPCRequest) and message.method == "tools/list":
            self._listing_ids[str(message.id)] = not (message.params or {}).get("cursor")

    def incoming(self, item: Any) -> None:
        message = getattr(item, "message", None)
        if not isinstance(message, types.JSONRPCResponse | types.JSONRPCError) or not self._listing_ids:
            return
        key = str(message.id)
        if key not in self._listing_ids:
            return
        first_page = self._listing_ids.pop(key)
        if isinstance(message, types.JSONRPCResponse) and isinstance(message.result.get("tools"), list):
            self._clean(message.result, first_page)

    def _clean(self, result: dict[str, Any], first_page: bool) -> None:
        kept = []
        dropped: dict[str, str] = {}
        for tool in result["tools"]:
            problem = tool_problem(tool)
            if problem is None:
                kept.append(tool)
                continue
            name = tool.get("name") if isinstance(tool, dict) and isinstance(tool.get("name"), str) else "?"
            dropped[name[:80]] = problem
            log.warning("mcp %s: leaving out tool %r: %s", self.server_id, name[:80], problem)
        result["tools"] = kept
        if first_page:  # a later page adds to the first page's findings
            self.dropped = dropped
        else:
            self.dropped.update(dropped)


class _GuardedRead:
    def __init__(self, inner: Any, guard: ToolListGuard) -> None:
        self._inner = inner
        self._guard = guard

    @property
    def last_context(self) -> Any:
        # The SDK dispatches each message in the sender's context when the stream records one (HTTP does).
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        item = await self._inner.receive()
        self._guard.incoming(item)
        return item

    def __aiter__(self) -> _GuardedRead:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        item = await self._inner.__anext__()
        self._guard.incoming(item)
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _GuardedRead:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


class _GuardedWrite:
    def __init__(self, inner: Any, guard: ToolListGuard) -> None:
        self._inner = inner
        self._guard = guard

    async def send(self, item: SessionMessage) -> None:
        self._guard.outgoing(item)
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _GuardedWrite:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
