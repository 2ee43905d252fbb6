"""The app's own tools at /mcp (MCP_SERVER_ENABLED=true) for MCP clients: the SDK's client against the real
server process, through the identity checks, with the caller's permissions and the session log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from galaxy_chat.testing.app_process import AppProcess

SECRET = "mcp-proxy-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    folder = tmp_path_factory.mktemp("mcp-endpoint")
    permissions = folder / "permissions.yml"
    permissions.write_text("groups:\n  default:\n    tools: [calculator, sql_query]\n")
    process = AppProcess(folder, args=[], env={"MCP_SERVER_ENABLED": "true", "TRUSTED_PROXY_SECRET": SECRET,
                                               "PERMISSIONS_FILE": str(permissions), "MESSAGES_PER_MINUTE": "5"})
    process.start()
    yield process
    process.stop()


def client_for(server: AppProcess, email: str) -> tuple[httpx2.AsyncClient, Client]:
    http = httpx2.AsyncClient(headers={"X-EMAIL-USER": email, "X-Proxy-Secret": SECRET}, timeout=30)
    return http, Client(streamable_http_client(f"{server.url}/mcp/", http_client=http))


async def test_a_client_lists_and_calls_the_tools_it_may_use(server: AppProcess) -> None:
    http, client = client_for(server, "ada@example.com")
    async with http, client:
        names = sorted(tool.name for tool in (await client.list_tools()).tools)
        assert names == ["calculator", "sql_query"]  # python and user_lookup are not ada's
        result = await client.call_tool("calculator", {"expression": "2*(3+4)"})
        assert (result.content[0].text, result.is_error) == ("2*(3+4) = 14", False)
        refused = await client.call_tool("python", {"code": "print(1)"})
        assert refused.is_error and "available to you" in refused.content[0].text
        for n in range(4):  # the page's rate limit holds here too: 5 a minute, the 6th is refused
            await client.call_tool("calculator", {"expression": f"{n}+1"})
        limited = await client.call_tool("calculator", {"expression": "1+1"})
        assert limited.is_error and "5 messages in the last minute" in limited.content[0].text
    logged = [json.loads(line) for path in (server.workdir / "logs").glob("*.jsonl")
              for line in path.read_text().splitlines()]
    assert any(line["type"] == "tool_action" and line["tool"] == "calculator" for line in logged)
    assert {line.get("origin") for line in logged if line["type"] == "session_start"} == {"mcp"}


def test_without_identity_or_secret_the_endpoint_answers_401(server: AppProcess) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"accept": "application/json, text/event-stream"}
    assert httpx.post(f"{server.url}/mcp/", json=body, headers=accept).status_code == 401
    no_secret = httpx.post(f"{server.url}/mcp/", json=body, headers={**accept, "X-EMAIL-USER": "ada@example.com"})
    assert no_secret.status_code == 401
