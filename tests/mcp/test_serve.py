"""Our tools served over MCP: the SDK's own client, over HTTP, against uvicorn on a free loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from galaxy_chat.mcp import build_mcp_endpoint
from galaxy_chat.vocabulary.users import User
from tests.mcp.servers import free_port

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def list_tools(user: User) -> list[tuple[str, str, dict[str, Any]]]:
    tools = [("shout", "Upper-case the text", SCHEMA)]
    if user.email.startswith("ada"):
        tools.append(("whoami", "Who is calling", {"type": "object", "properties": {}}))
        tools.append(("explode", "Raises", {"type": "object", "properties": {}}))
    return tools


async def call_tool(user: User, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
    if name == "shout":
        return str(arguments.get("text", "")).upper(), False
    if name == "whoami":
        await asyncio.sleep(0.05)
        return user.email, False
    raise RuntimeError("boom")


class FakeIdentity:
    """Stands in for the app's identity middleware: the user comes from a test header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            email = dict(scope["headers"]).get(b"x-test-user")
            if email:
                scope.setdefault("state", {})["user"] = User(email=email.decode())
        await self.app(scope, receive, send)


@asynccontextmanager
async def serving() -> AsyncIterator[str]:
    endpoint = build_mcp_endpoint(list_tools, call_tool)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with endpoint.running():
            yield

    app = Starlette(routes=[Mount("/mcp", endpoint)], lifespan=lifespan)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(FakeIdentity(app), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}/mcp/"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def client_as(url: str, email: str, mode: str) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers={"x-test-user": email})
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield client


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_each_person_sees_and_calls_their_own_tools(mode: str) -> None:
    async with (
        serving() as url,
        client_as(url, "ada@example.org", mode) as ada,
        client_as(url, "bob@example.org", mode) as bob,
    ):
            assert {tool.name for tool in (await ada.list_tools()).tools} == {"shout", "whoami", "explode"}
            assert [tool.name for tool in (await bob.list_tools()).tools] == ["shout"]
            shout = await bob.call_tool("shout", {"text": "hi"})
            assert (shout.content[0].text, shout.is_error) == ("HI", False)
            who_ada, who_bob = await asyncio.gather(ada.call_tool("whoami", {}), bob.call_tool("whoami", {}))
            assert who_ada.content[0].text == "ada@example.org"
            assert who_bob.is_error and "no tool 'whoami'" in who_bob.content[0].text  # not Bob's tool
            exploded = await ada.call_tool("explode", {})
            assert exploded.is_error and exploded.content[0].text == "explode failed unexpectedly"


async def test_no_user_is_401() -> None:
    async with serving() as url:
        async with httpx2.AsyncClient() as http:
            response = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                       headers={"accept": "application/json, text/event-stream"})
            assert response.status_code == 401
        with pytest.raises((MCPError, httpx2.HTTPError, ExceptionGroup)):
            async with httpx2.AsyncClient() as http, Client(streamable_http_client(url, http_client=http)) as c:
                await c.list_tools()
