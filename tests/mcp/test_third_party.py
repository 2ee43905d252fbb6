"""Real servers we did not write: `mcp-server-time` (PyPI, offline over stdio) and the npm reference server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from galaxy_chat.mcp import McpServerConfig
from tests.mcp.servers import running, stdio_config

EVERYTHING = "@modelcontextprotocol/server-everything"


async def test_mcp_server_time() -> None:
    config = McpServerConfig(id="time", command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone",
                                                                      "UTC"])
    async with running(config) as mcp:
        state = mcp.state("time")
        assert state.status == "connected", state.reason
        assert {tool.name for tool in state.tools} == {"get_current_time", "convert_time"}
        now = await mcp.call("time", "get_current_time", {"timezone": "Europe/Paris"})
        assert not now.is_error and now.structured["timezone"] == "Europe/Paris"
        bad = await mcp.call("time", "get_current_time", {"timezone": "Mars/Olympus"})
        assert bad.is_error and "Mars/Olympus" in bad.text


@pytest.fixture(scope="session")
def everything_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The npm reference server, installed once per test run into a cache folder."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the MCP reference server in CI")
        pytest.skip("node/npm not installed: the npm MCP reference server is not tested here")
    prefix = tmp_path_factory.mktemp("npm-everything")
    done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", EVERYTHING],
                          capture_output=True, text=True, timeout=240)
    if done.returncode != 0:
        message = f"npm install {EVERYTHING} failed: {done.stderr.strip()[-300:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return prefix / "node_modules" / EVERYTHING / "dist" / "index.js"


@pytest.mark.timeout(300)
async def test_the_npm_reference_server(everything_server: Path) -> None:
    config = McpServerConfig(id="ev", command="node", args=[str(everything_server), "stdio"])
    async with running(config) as mcp:
        state = mcp.state("ev")
        assert state.status == "connected", state.reason
        assert {"echo", "get-sum", "trigger-long-running-operation"} <= {tool.name for tool in state.tools}
        assert (await mcp.call("ev", "echo", {"message": "hi"})).text == "Echo: hi"
        steps: list[float] = []
        slow = await mcp.call("ev", "trigger-long-running-operation", {"duration": 1, "steps": 2},
                              on_progress=lambda progress, total, message: steps.append(progress))
        assert not slow.is_error and steps == [1, 2]
        image = await mcp.call("ev", "get-tiny-image")
        assert any(type(widget).__name__ == "Image" for widget in image.widgets)

        async def answer(message: str, schema: dict) -> tuple[str, dict | None]:
            return "accept", {"name": "Ada"}

        # A handshake-era stdio server: the one call in flight that can answer gets the question.
        asked = await mcp.call("ev", "trigger-elicitation-request", elicit=answer)
        assert "Name: Ada" in asked.text


async def test_handshake_era_stdio_routes_a_question_only_when_unambiguous() -> None:
    import asyncio

    async with running(stdio_config(protocol="legacy")) as mcp:
        assert mcp.state("t").protocol_version == "2025-11-25"

        async def yes(message: str, schema: dict) -> tuple[str, dict | None]:
            return "accept", {"ok": True}

        alone = await mcp.call("t", "ask", {"question": "alone?"}, elicit=yes)
        assert alone.text == "accepted ok=True note="
        # Two calls that could both answer, on a wire that says nothing about which one asked: neither
        # person is shown the other's question, both are declined.
        first, second = await asyncio.gather(
            mcp.call("t", "ask", {"question": "one?"}, elicit=yes),
            mcp.call("t", "ask", {"question": "two?"}, elicit=yes),
        )
        assert (first.text, second.text) == ("decline", "decline")
