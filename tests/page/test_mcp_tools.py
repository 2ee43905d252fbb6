"""MCP tools in the app: a real SDK server over stdio, called by command and by the (scripted) model, with
progress, a question answered in a form, Stop, permissions and /ready."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from nicegui import app

from galaxy_chat.testing.llm_server import Reply, is_chat_request
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import ToolCallProgress
from tests.page_helpers import is_shown, model_file, send, shown_html, wait_until_idle

SERVER = {"id": "t", "command": sys.executable,
          "args": ["-W", "ignore", "-m", "galaxy_chat.testing.mcp_test_server", "--transport", "stdio"]}


def mcp_env(tmp_path: Path, **extra: object) -> dict[str, str]:
    path = tmp_path / "mcp_servers.yml"
    path.write_text(json.dumps({"servers": [{**SERVER, **extra}]}))  # JSON is YAML
    return {"MCP_SERVERS_FILE": str(path), "TOOL_TIMEOUT_S": "20"}


async def connected(user, server: str = "t") -> dict:
    for _ in range(200):
        ready = (await user.http_client.get("/ready")).json()
        state = next(s for s in ready["checks"]["mcp"]["servers"] if s["server_id"] == server)
        if state["status"] == "connected":
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"MCP server {server} did not connect: {state}")


def last_turn():
    (session,) = app.state.services.sessions.sessions()
    return session.turns[-1]


async def test_mcp_tools_by_command_with_progress_and_a_listing(simulated_app, tmp_path) -> None:
    async with simulated_app(TEST_MODE="true", **mcp_env(tmp_path)) as user:
        state = await connected(user)
        assert "t__echo" in [tool["name"] for tool in state["tools"]]
        await user.open("/")
        (tools,) = user.find(marker="tools-select").elements
        assert "t__echo" in tools.value  # chosen by default like the built-in tools
        await send(user, "/mcp")
        await wait_until_idle(user)
        assert "t__progress" in shown_html(user) and "connected" in shown_html(user)
        await send(user, '/tool t__echo {"text": "hello mcp"}')
        await wait_until_idle(user)
        await user.should_see("t__echo", marker="tool-card")
        await user.should_see("hello mcp", marker="tool-result")
        await send(user, '/tool t__progress {"steps": 3}')
        await wait_until_idle(user)
        reports = [e for e in last_turn().events if isinstance(e, ToolCallProgress)]
        assert [(r.progress, r.total, r.message) for r in reports] == [(1, 3, "step 1"), (2, 3, "step 2"),
                                                                       (3, 3, "step 3")]
        await user.should_see("done 3 steps", marker="tool-result")
        await send(user, '/tool t__echo {"txt": 1}')
        await wait_until_idle(user)
        await user.should_see("Invalid arguments for t__echo", marker="tool-error")


async def test_the_model_calls_an_mcp_tool_and_reads_its_result(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, openai_tool_calls(("c1", "t__sales", ['{"months": 2}']))),
                      Reply(200, openai_text("Sales fetched.")))
    async with simulated_app(TEST_MODE="true", **mcp_env(tmp_path), **model_file(tmp_path, llm_server)) as user:
        await connected(user)
        await user.open("/")
        await send(user, "How were sales?")
        await wait_until_idle(user)
        await user.should_see("t__sales", marker="tool-card")
        assert is_shown(user, "widget-table")
        chats = [r.json() for r in llm_server.requests if is_chat_request(r)]
        assert "t__sales" in [tool["function"]["name"] for tool in chats[0]["tools"]]
        tool_message = chats[1]["messages"][-1]
        assert tool_message["role"] == "tool" and "revenue" in tool_message["content"]


async def test_a_question_becomes_a_form_and_the_answer_reaches_the_server(simulated_app, tmp_path) -> None:
    async with simulated_app(TEST_MODE="true", **mcp_env(tmp_path)) as user:
        await connected(user)
        await user.open("/")
        await send(user, '/tool t__ask {"question": "Deploy now?"}')
        for _ in range(100):
            if is_shown(user, "tool-question"):
                break
            await asyncio.sleep(0.05)
        await user.should_see("Deploy now?", marker="tool-question")
        user.find(marker="question-field-ok").click()  # the checkbox
        user.find(marker="question-field-note").type("after lunch")
        user.find(marker="question-accept").click()
        await wait_until_idle(user)
        await user.should_see("accepted ok=True note=after lunch", marker="tool-result")
        await user.should_see("Answered", marker="question-outcome")


async def test_stop_cancels_a_long_call_and_the_server_stays_usable(simulated_app, tmp_path) -> None:
    async with simulated_app(TEST_MODE="true", **mcp_env(tmp_path)) as user:
        await connected(user)
        await user.open("/")
        await send(user, '/tool t__slow {"seconds": 30}')
        await asyncio.sleep(0.5)
        user.find(marker="stop-button").click()
        await wait_until_idle(user, timeout=3)
        await user.should_see("stopped", marker="stopped-badge")
        await send(user, "/tool t__stats")
        await wait_until_idle(user)
        await user.should_see('"cancelled": 1', marker="tool-result")


async def test_permissions_gate_mcp_servers_and_tools(simulated_app, tmp_path) -> None:
    permissions = tmp_path / "permissions.yml"
    permissions.write_text("groups:\n  default:\n    tools: [calculator]\n  devs:\n    members: ['*@dev.example']\n"
                           "    mcp_servers: [t]\n    deny:\n      tools: ['t__crash']\n")
    async with simulated_app(PERMISSIONS_FILE=str(permissions), **mcp_env(tmp_path)) as user:
        user.http_client.headers["X-EMAIL-USER"] = "ada@dev.example"
        await connected(user)
        await user.open("/")
        (tools,) = user.find(marker="tools-select").elements
        assert "t__echo" in tools.value and "t__crash" not in tools.options
        user.http_client.headers["X-EMAIL-USER"] = "visitor@else.example"
        await user.open("/")
        await send(user, '/tool t__echo {"text": "x"}')
        await wait_until_idle(user)
        await user.should_see("is not available to you", marker="tool-error")


async def test_a_server_that_cannot_start_is_shown_failed_and_hurts_nothing(simulated_app, tmp_path) -> None:
    path = tmp_path / "mcp_servers.yml"
    path.write_text(json.dumps({"servers": [SERVER, {"id": "broken", "command": str(tmp_path / "no-such-server")}]}))
    async with simulated_app(TEST_MODE="true", MCP_SERVERS_FILE=str(path)) as user:
        await connected(user)
        for _ in range(100):
            ready = (await user.http_client.get("/ready")).json()
            broken = next(s for s in ready["checks"]["mcp"]["servers"] if s["server_id"] == "broken")
            if broken["status"] == "failed":
                break
            await asyncio.sleep(0.05)
        assert broken["status"] == "failed" and broken["reason"] and ready["status"] == "ready"
        await user.open("/")
        await user.should_see("t: connected", marker="mcp-servers")
        await user.should_see("broken: failed", marker="mcp-servers")
        await send(user, "/calc 1+1")
        await wait_until_idle(user)
        await user.should_see("1+1 = 2")
