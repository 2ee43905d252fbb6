"""MCP (Model Context Protocol) support: connections to configured MCP servers, and our tools served over MCP.

- `server_config`: `McpServerConfig`, `parse_mcp_servers` (our `servers:` shape and pasted `mcpServers:` blocks).
- `connections`: `McpConnections`, one lasting connection per server (owner task, reconnect, tool list, calls).
- `results` / `outcome`: an MCP result as `McpOutcome(text, widgets, is_error, ...)`.
- `serve`: `build_mcp_endpoint`, an ASGI app exposing our tools at `/mcp`.
"""

from galaxy_chat.mcp.call_scope import ElicitAction, ElicitFn, LogFn, ProgressFn
from galaxy_chat.mcp.connections import McpConnections
from galaxy_chat.mcp.outcome import McpOutcome
from galaxy_chat.mcp.serve import McpEndpoint, build_mcp_endpoint
from galaxy_chat.mcp.server_config import McpConfigError, McpServerConfig, parse_mcp_servers
from galaxy_chat.mcp.state import OfferedTool, ServerState, Status

__all__ = [
    "ElicitAction",
    "ElicitFn",
    "LogFn",
    "McpConfigError",
    "McpConnections",
    "McpEndpoint",
    "McpOutcome",
    "McpServerConfig",
    "OfferedTool",
    "ProgressFn",
    "ServerState",
    "Status",
    "build_mcp_endpoint",
    "parse_mcp_servers",
]
