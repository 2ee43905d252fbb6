"""Streamable HTTP servers under uvicorn: identity per call, both protocol eras, restarts and reconnects."""

from __future__ import annotations

import asyncio

import pytest

from galaxy_chat.mcp import McpServerConfig
from tests.mcp.servers import HttpServer, running


def http_config(server: HttpServer, protocol: str = "auto", **fields: object) -> McpServerConfig:
    return McpServerConfig(id="h", url=server.url, protocol=protocol, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_each_call_carries_its_own_persons_email(http_server: HttpServer, protocol: str) -> None:
    config = http_config(http_server, protocol, forward_identity=True)
    async with running(config) as mcp:
        expected_era = "2026-07-28" if protocol == "auto" else "2025-11-25"
        assert mcp.state("h").protocol_version == expected_era
        # Concurrent calls on the one shared connection, finishing in another order than they started.
        ada, bob, nobody = await asyncio.gather(
            mcp.call("h", "whoami", {"delay": 0.4}, user_email="ada@example.org"),
            mcp.call("h", "whoami", {"delay": 0.1}, user_email="bob@example.org"),
            mcp.call("h", "whoami", {"delay": 0.2}),
        )
        assert (ada.text, bob.text, nobody.text) == ("ada@example.org", "bob@example.org", "<none>")


async def test_no_identity_unless_configured(http_server: HttpServer) -> None:
    async with running(http_config(http_server)) as mcp:
        outcome = await mcp.call("h", "whoami", user_email="ada@example.org")
        assert outcome.text == "<none>"


@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_elicitation_logs_and_list_changes_over_http(http_server: HttpServer, protocol: str) -> None:
    async with running(http_config(http_server, protocol)) as mcp:

        async def answer(message: str, schema: dict) -> tuple[str, dict | None]:
            return "accept", {"ok": True, "note": message}

        async def other(message: str, schema: dict) -> tuple[str, dict | None]:
            return "cancel", None

        # Two calls asking at once each get their own answer: the SDK routes by the call's context.
        mine, theirs = await asyncio.gather(
            mcp.call("h", "ask", {"question": "mine?", "delay": 0.2}, elicit=answer),
            mcp.call("h", "ask", {"question": "theirs?"}, elicit=other),
        )
        assert (mine.text, theirs.text) == ("accepted ok=True note=mine?", "cancel")
        lines: list[str] = []
        await mcp.call("h", "chatty", {"lines": 1}, on_log=lambda level, text: lines.append(text))
        assert lines == ["log line 1"]
        await mcp.call("h", "add_tool", {"name": "late"})
        for _ in range(100):
            if "h__late" in {tool.qualified_name for tool in mcp.offered_tools()}:
                break
            await asyncio.sleep(0.05)
        assert (await mcp.call("h", "late")).text == "I am late"


@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_a_restarted_server_is_reached_again(http_server: HttpServer, protocol: str) -> None:
    async with running(http_config(http_server, protocol)) as mcp:
        assert (await mcp.call("h", "echo", {"text": "one"})).text == "one"
        # A 2026 connection has no session to lose; a handshake-era one is answered "session not found",
        # which reconnects and sends the call again (it never ran).
        http_server.restart()
        outcome = await mcp.call("h", "echo", {"text": "two"})
        assert outcome.text == "two"


async def test_a_dead_server_is_a_clean_error_and_comes_back(http_server: HttpServer) -> None:
    async with running(http_config(http_server, timeout_s=3, connect_timeout_s=2)) as mcp:
        http_server.kill()
        down = await mcp.call("h", "echo", {"text": "x"})
        assert down.is_error
        for _ in range(100):
            if mcp.state("h").status == "failed":
                break
            await asyncio.sleep(0.05)
        assert mcp.state("h").status == "failed" and mcp.state("h").last_error
        http_server.start()
        for _ in range(200):  # the back-off is at most a few seconds this early
            outcome = await mcp.call("h", "echo", {"text": "back"})
            if not outcome.is_error:
                break
            await asyncio.sleep(0.1)
        assert outcome.text == "back"


async def test_the_legacy_sse_transport() -> None:
    server = HttpServer(transport="sse")
    server.start()
    try:
        config = McpServerConfig(id="h", url=server.url, transport="sse")
        async with running(config) as mcp:
            assert mcp.state("h").status == "connected", mcp.state("h").reason
            steps: list[float] = []
            outcome = await mcp.call("h", "progress", {"steps": 2}, on_progress=lambda p, t, m: steps.append(p))
            assert outcome.text == "done 2 steps" and steps == [1, 2]
    finally:
        server.kill()
