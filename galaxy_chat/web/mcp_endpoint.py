"""`/mcp`: the built-in tools served to MCP clients (Claude Desktop, an agent), when MCP_SERVER_ENABLED=true.

Behind the same identity middleware as every route (the person is in the request's scope), with the caller's
permissions and the same front door as a command: limits, one run at a time, timeouts and a session log.
Only the app's own tools are served, never the MCP tools it uses itself.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from nicegui.app import App

from galaxy_chat.mcp import build_mcp_endpoint
from galaxy_chat.services import Services
from galaxy_chat.vocabulary.users import User

PATH = "/mcp"


def mount_mcp_endpoint(app: App, services: Services) -> None:
    def list_tools(user: User) -> list[tuple[str, str, dict[str, Any]]]:
        specs = (services.tools.tools[name].spec() for name in services.tools_for(user) if name in services.tools.tools)
        return [(spec.name, spec.description, spec.parameters) for spec in specs]

    endpoint = build_mcp_endpoint(list_tools, services.run_tool)
    app.mount(PATH, endpoint)
    stack = AsyncExitStack()

    async def start() -> None:
        await stack.enter_async_context(endpoint.running())

    app.on_startup(start)  # NiceGUI's lifespan: a mounted app's own never runs
    app.on_shutdown(stack.aclose)
