"""Servers that misbehave never hurt the app: each gives a clean state or outcome with a reason, and a log line."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from galaxy_chat.mcp import McpServerConfig
from tests.mcp.servers import running, stdio_config


async def test_a_server_that_fails_to_start(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "galaxy_chat.mcp")
    async with running(stdio_config(mode="fail-start")) as mcp:
        state = mcp.state("t")
        assert state.status == "failed"
        assert "refusing to start" in state.reason and "retrying in" in state.reason
        outcome = await mcp.call("t", "echo", {"text": "x"}, timeout_s=1)
        assert outcome.is_error and "not available" in outcome.text
    assert any("refusing to start" in record.getMessage() for record in caplog.records)


async def test_a_missing_command() -> None:
    config = McpServerConfig(id="gone", command="/nonexistent/mcp-server")
    async with running(config) as mcp:
        state = mcp.state("gone")
        assert state.status == "failed" and "No such file" in state.reason


async def test_start_never_waits_for_a_silent_server() -> None:
    config = stdio_config(mode="silent", connect_timeout_s=1.5)
    loop = asyncio.get_running_loop()
    before = loop.time()
    async with running(config, settle_s=0) as mcp:
        assert loop.time() - before < 0.5  # start() returned at once
        assert mcp.state("t").status == "connecting"
        assert await mcp.wait_settled(10)
        assert mcp.state("t").status == "failed" and "no answer within 1.5 s" in mcp.state("t").reason


async def test_garbage_on_stdout_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "galaxy_chat.mcp")
    async with running(stdio_config(mode="garbage")) as mcp:
        assert mcp.state("t").status == "connected"
        assert (await mcp.call("t", "echo", {"text": "clean"})).text == "clean"
    assert any("not JSON-RPC" in record.getMessage() for record in caplog.records)


async def test_invalid_schemas_are_left_out_with_a_reason(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "galaxy_chat.mcp")
    async with running(stdio_config(mode="invalid-schema")) as mcp:
        state = mcp.state("t")
        assert state.status == "connected", state.reason
        names = {tool.name for tool in state.tools}
        assert "echo" in names and not {"bad_type", "not_object"} & names
        assert "root type is 'string'" in state.left_out["not_object"]
        assert "not a valid JSON Schema" in state.left_out["bad_type"]
        assert any("invalid schema" in note for note in state.notes)
        assert (await mcp.call("t", "echo", {"text": "ok"})).text == "ok"  # the others still work
    assert any("leaving out tool 'bad_type'" in record.getMessage() for record in caplog.records)


async def test_five_hundred_tools_are_capped_with_a_note() -> None:
    async with running(stdio_config(mode="many-tools", tools=["t*", "echo"])) as mcp:
        state = mcp.state("t")
        assert state.tool_count == 64
        assert "offering the first 64 of 501 tools of `t`; narrow `tools:`" in state.notes
        assert all(tool.name.startswith("t") or tool.name == "echo" for tool in state.tools)


async def test_allow_list_and_names_that_do_not_fit() -> None:
    config = stdio_config(server_id="a-long-server-name-here", tools=["echo", "spawn_*"])
    async with running(config) as mcp:
        state = mcp.state(config.id)
        assert [tool.qualified_name for tool in state.tools] == ["a-long-server-name-here__echo",
                                                                "a-long-server-name-here__spawn_grandchild"]
        outcome = await mcp.call(config.id, "sales")  # listed by the server but not offered
        assert outcome.is_error


async def test_a_crash_mid_call_is_an_error_then_a_reconnect(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "galaxy_chat.mcp")
    async with running(stdio_config()) as mcp:
        first_pid = (await mcp.call("t", "pid")).structured["result"]
        crashed = await mcp.call("t", "crash")
        assert crashed.is_error and "connection to `t` was lost during the call" in crashed.text
        after = await mcp.call("t", "pid")  # waits for the reconnect instead of failing
        assert not after.is_error and after.structured["result"] != first_pid
        assert mcp.state("t").reconnects == 1
    assert any("reconnecting in" in record.getMessage() for record in caplog.records)


async def test_a_server_answering_with_something_else_than_mcp() -> None:
    code = "import sys, time; print('hello, I am not MCP', flush=True); time.sleep(30)"
    config = McpServerConfig(id="odd", command=sys.executable, args=["-c", code], connect_timeout_s=1)
    async with running(config) as mcp:
        assert mcp.state("odd").status == "failed"
        outcome = await mcp.call("odd", "anything", timeout_s=0.5)
        assert outcome.is_error


async def test_unknown_and_disabled_servers() -> None:
    async with running(stdio_config(server_id="off", enabled=False)) as mcp:
        assert mcp.state("off").status == "disabled"
        assert "disabled" in (await mcp.call("off", "echo")).text
        assert "no MCP server `nope`" in (await mcp.call("nope", "echo")).text
        assert mcp.resolve("off__echo") == ("off", "echo") and mcp.resolve("nope__echo") is None


async def test_the_allow_list_holds_for_a_call_made_while_connecting() -> None:
    async with running(stdio_config(tools=["echo"]), settle_s=0) as mcp:
        assert mcp.state("t").status == "connecting"
        refused, allowed = await asyncio.gather(mcp.call("t", "sales"), mcp.call("t", "echo", {"text": "ok"}))
        assert refused.is_error and "offers no tool `sales`" in refused.text
        assert allowed.text == "ok"
