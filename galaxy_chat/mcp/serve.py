"""Our own tools as an MCP server: an ASGI app (the SDK's streamable HTTP server) to mount at `/mcp`.

The app knows nothing about tools or permissions: it is given `list_tools(user)` and `call_tool(user, name,
arguments)` and asks them per request, with the person the app's identity middleware put in
`scope["state"]["user"]` (that middleware runs before the mount; a request without a user gets 401). It is
stateless (no `Mcp-Session-Id`, any replica serves any request) and answers with plain JSON, since our tools send
no progress or questions back.

    endpoint = build_mcp_endpoint(list_tools, call_tool)
    app.mount("/mcp", endpoint)            # clients use https://host/mcp/
    async with endpoint.running(): ...     # in the host app's lifespan: a mounted app's own lifespan never runs
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from galaxy_chat.mcp.call_scope import invoke
from galaxy_chat.vocabulary.users import User

log = logging.getLogger(__name__)

ToolSpec = tuple[str, str, dict[str, Any]]  # name, description, JSON schema of the arguments
ListTools = Callable[[User], Sequence[ToolSpec] | Awaitable[Sequence[ToolSpec]]]
CallTool = Callable[[User, str, dict[str, Any]], Awaitable[tuple[str, bool]]]


def _user_of(scope: Any) -> User | None:
    state = scope.get("state") if isinstance(scope, dict) else None
    user = state.get("user") if isinstance(state, dict) else None
    return user if isinstance(user, User) else None


def _text_result(text: str, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=is_error)


class McpEndpoint:
    """An ASGI app serving MCP; `running()` (or an ASGI lifespan, when it is the top-level app) starts it."""

    def __init__(self, list_tools: ListTools, call_tool: CallTool, *, name: str = "galaxy-chat",
                 security: TransportSecuritySettings | None = None) -> None:
        self._list_tools = list_tools
        self._call_tool = call_tool
        self.server: Server[Any] = Server(name, version="1", on_list_tools=self._on_list_tools,
                                          on_call_tool=self._on_call_tool)
        # The identity middleware in front already decides who may reach this app; the SDK's default
        # Host allow-list (localhost only) would refuse every request behind a real hostname.
        self._security = security or TransportSecuritySettings(enable_dns_rebinding_protection=False)
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve requests while inside; a manager runs once, so each entry makes a new one."""
        manager = StreamableHTTPSessionManager(self.server, stateless=True, json_response=True,
                                               security_settings=self._security)
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if _user_of(scope) is None:
            await _error(send, 401, "not signed in")
            return
        if self._manager is None:
            await _error(send, 503, "the MCP endpoint is not running")
            return
        await self._manager.handle_request(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        async with self.running():
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})

    async def _specs(self, ctx: ServerRequestContext[Any, Any]) -> tuple[User, Sequence[ToolSpec]]:
        user = _user_of(getattr(ctx.request, "scope", None))
        if user is None:  # the HTTP check ran first; this guards a transport that carries no scope
            raise PermissionError("no signed-in user on this request")
        return user, await invoke(self._list_tools, user)

    async def _on_list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        _user, specs = await self._specs(ctx)
        return types.ListToolsResult(tools=[
            types.Tool(name=name, description=description, input_schema=schema)
            for name, description, schema in specs
        ])

    async def _on_call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        user, specs = await self._specs(ctx)
        if params.name not in {name for name, _description, _schema in specs}:
            return _text_result(f"no tool {params.name!r} is available to you", True)
        try:
            text, is_error = await self._call_tool(user, params.name, dict(params.arguments or {}))
        except Exception:
            log.exception("mcp endpoint: %s failed for %s", params.name, user.email)
            return _text_result(f"{params.name} failed unexpectedly", True)
        return _text_result(text, is_error)


def build_mcp_endpoint(list_tools: ListTools, call_tool: CallTool, *, name: str = "galaxy-chat",
                       security: TransportSecuritySettings | None = None) -> McpEndpoint:
    """The ASGI app to mount at `/mcp`; enter `running()` in the host app's lifespan."""
    return McpEndpoint(list_tools, call_tool, name=name, security=security)


async def _error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
