"""HTTP transports (streamable HTTP, legacy SSE) on an `httpx2` client carrying the server's headers.

The person's verified email is added per request by an httpx2 request hook that reads the call in flight from
its ContextVar: the SDK sends each request's POST in the context of the task that made the call, so a shared
connection still sends each person's own email, and requests made for nobody (listing tools) carry none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from galaxy_chat.mcp.call_scope import ACTIVE_CALL
from galaxy_chat.mcp.server_config import McpServerConfig

# A response stream may stay quiet while a tool works; the per-call timeout is what ends a hung call.
READ_TIMEOUT_S = 300.0


def identity_hook(config: McpServerConfig) -> Any:
    """An httpx2 request hook that sets (or strips) the identity header for the call in flight."""
    header = config.identity_header

    async def set_identity(request: httpx2.Request) -> None:
        call = ACTIVE_CALL.get()
        email = call.user_email if call is not None and call.server_id == config.id else None
        if email:
            request.headers[header] = email
        else:
            request.headers.pop(header, None)

    return set_identity


def http_client(config: McpServerConfig) -> httpx2.AsyncClient:
    timeout = httpx2.Timeout(config.connect_timeout_s, read=max(READ_TIMEOUT_S, config.timeout_s + 30))
    hooks = {"request": [identity_hook(config)]} if config.forward_identity else None
    return httpx2.AsyncClient(headers=config.headers, timeout=timeout, event_hooks=hooks)


@asynccontextmanager
async def http_transport(config: McpServerConfig) -> AsyncIterator[Any]:
    """Enter the streams of an HTTP MCP server (streamable HTTP, or SSE when configured)."""
    assert config.url is not None
    if config.transport == "sse":
        async with sse_client(
            config.url, headers=config.headers, timeout=config.connect_timeout_s,
            sse_read_timeout=max(READ_TIMEOUT_S, config.timeout_s + 30),
        ) as streams:
            yield streams
        return
    async with http_client(config) as client, streamable_http_client(config.url, http_client=client) as streams:
        yield streams
