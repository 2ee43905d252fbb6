"""MCP tools as the app's own tools: each offered tool of a connected server is a `Tool`, found by the registry
through `McpToolSource` and run through the same path as the built-in ones (permission check, schema
validation, timeout, session log, tool card). Its progress and questions reach the person through the
call's `CallIO`; the person's email goes to the server only when it is configured to forward identity.
"""

from __future__ import annotations

import logging
from typing import Any

import jsonschema

from galaxy_chat.mcp.connections import McpConnections
from galaxy_chat.mcp.server_config import TOOL_SEPARATOR, McpConfigError, McpServerConfig
from galaxy_chat.mcp.state import OfferedTool
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.tool_calls import ToolSpec
from tools.base import ArgumentsError, Tool, ToolContext, ToolResult

log = logging.getLogger(__name__)

ANSWER_SLACK_S = 5.0


class McpTool(Tool):
    """One tool of one MCP server; `name` is `<server>__<tool>`, as the model and `/tool` call it."""

    def __init__(self, settings: Settings, connections: McpConnections, config: McpServerConfig,
                 offered: OfferedTool) -> None:
        super().__init__(settings)
        self.name = offered.qualified_name  # type: ignore[misc]  # per instance: the class is shared by all
        self.description = offered.description  # type: ignore[misc]
        self.connections = connections
        self.config = config
        self.offered = offered
        schema = offered.input_schema or {"type": "object", "properties": {}}
        self._schema = schema
        self._validator = jsonschema.Draft202012Validator(schema)

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self._schema)

    def parse_arguments(self, raw: dict[str, Any]) -> dict[str, Any]:
        problems = sorted(self._validator.iter_errors(raw), key=lambda error: list(error.absolute_path))
        if problems:
            raise ArgumentsError("; ".join(
                f"{'.'.join(str(part) for part in error.absolute_path) or 'arguments'}: {error.message}"
                for error in problems[:5]))
        return raw

    def effective_timeout(self) -> float:
        # The call's own limit (the connection ends a hung call), plus the time a person may take to fill in a
        # form the server asks for (bounded by the same limit), so the registry's clock never cuts in first.
        return 2 * self.config.timeout_s + ANSWER_SLACK_S

    async def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        io = context.io
        timeout = self.config.timeout_s

        def progress(done: float, total: float | None, message: str | None) -> None:
            if io is not None:
                io.progress(done, total, message or "")

        def server_log(level: str, text: str) -> None:
            log.info("mcp %s (session %s) %s: %s", self.config.id, context.session_id, level, text[:2000])
            if io is not None:
                io.note(level, text)

        async def elicit(message: str, schema: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
            if io is None:
                return "decline", None
            return await io.ask(message, schema, timeout)

        outcome = await self.connections.call(
            self.config.id, self.offered.name, args, timeout_s=timeout,
            user_email=context.user.email if self.config.forward_identity else None,
            on_progress=progress, elicit=elicit, on_log=server_log,
        )
        return ToolResult(text=outcome.text, widgets=list(outcome.widgets), is_error=outcome.is_error)


class McpToolSource:
    """The tools the connected servers offer now, as Tools (`ToolRegistry.add_source`)."""

    def __init__(self, settings: Settings, connections: McpConnections, configs: list[McpServerConfig]) -> None:
        self.settings = settings
        self.connections = connections
        self.configs = {config.id: config for config in configs}
        self._made: dict[str, tuple[OfferedTool, McpTool]] = {}

    def current_tools(self) -> dict[str, Tool]:
        current: dict[str, Tool] = {}
        for offered in self.connections.offered_tools():
            known = self._made.get(offered.qualified_name)
            if known is None or known[0] != offered:  # new, or re-listed with another schema or text
                known = self._made[offered.qualified_name] = (offered, McpTool(
                    self.settings, self.connections, self.configs[offered.server_id], offered))
            current[offered.qualified_name] = known[1]
        return current


def check_names(servers: list[McpServerConfig], builtin: list[str]) -> None:
    """An MCP tool is `<server>__<tool>`: a built-in tool named like that would clash with one of them."""
    for config in servers:
        clashing = [name for name in builtin if name.startswith(f"{config.id}{TOOL_SEPARATOR}")]
        if clashing:
            raise McpConfigError(f"MCP server {config.id!r}: its tools would clash with the built-in tool "
                                 f"{clashing[0]!r}; rename the server's id")
