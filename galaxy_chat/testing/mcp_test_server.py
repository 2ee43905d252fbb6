"""A small MCP server written with the SDK, run as a real process by the MCP tests and the benchmark.

    python -m galaxy_chat.testing.mcp_test_server --transport stdio|http|sse [--port N] [--mode MODE]

Over HTTP the endpoint is `/mcp` (streamable HTTP) or `/sse` (the legacy SSE transport).

Modes: `normal` (every behaviour tool), `garbage` (junk lines on stdout before speaking MCP), `invalid-schema`
(one tool declares a broken input schema), `many-tools` (500 extra tools), `fail-start` (exits at once with a
reason on stderr), `silent` (starts but never answers).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer

from galaxy_chat.testing.mcp_test_tools import register_many, register_tools

MODES = ("normal", "garbage", "invalid-schema", "many-tools", "fail-start", "silent")
BROKEN_SCHEMAS = {
    "bad_type": {"type": "object", "properties": {"x": {"type": "no-such-type"}}},
    "not_object": {"type": "string"},
}


async def break_schemas(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Rewrite tools/list so that some tools declare schemas a client must refuse."""
    result = await call_next(ctx)
    if ctx.method == "tools/list" and isinstance(result, dict):
        for tool in result.get("tools", []):
            if tool.get("name") in BROKEN_SCHEMAS:
                tool["inputSchema"] = BROKEN_SCHEMAS[tool["name"]]
    return result


def build_server(mode: str) -> MCPServer:
    middleware = [break_schemas] if mode == "invalid-schema" else []
    mcp = MCPServer("galaxy-test", version="1.0", log_level="WARNING", middleware=middleware)
    register_tools(mcp)
    if mode == "invalid-schema":
        for name in BROKEN_SCHEMAS:

            def broken() -> str:
                return "unreachable through a careful client"

            mcp.add_tool(broken, name=name, description="declares an invalid input schema")
    if mode == "many-tools":
        register_many(mcp, 500)
    return mcp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("stdio", "http", "sse"), default="stdio")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="normal")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.mode == "fail-start":
        print("mcp test server: refusing to start (mode fail-start)", file=sys.stderr)
        raise SystemExit(2)
    if args.mode == "silent":
        time.sleep(3600)
        return
    if args.mode == "garbage":
        # Before the SDK claims stdout: these bytes reach the client's reader as they are.
        sys.stdout.write("this is not json\n{\"also\": \"not json-rpc\"}\n\x00\x01 binary junk\n")
        sys.stdout.flush()
    mcp = build_server(args.mode)
    if args.transport == "stdio":
        mcp.run("stdio")
        return
    import uvicorn

    app = mcp.streamable_http_app() if args.transport == "http" else mcp.sse_app()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
