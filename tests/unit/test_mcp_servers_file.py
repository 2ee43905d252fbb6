"""config/mcp_servers.yml read like the other YAML files: variables expanded, one-line errors, pasted blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from galaxy_chat.mcp.mcp_tools import check_names
from galaxy_chat.mcp.server_config import McpConfigError, McpServerConfig
from galaxy_chat.mcp.servers_file import load_mcp_servers
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.app_process import ROOT


def load(tmp_path: Path, text: str, **variables: str) -> list:
    path = tmp_path / "mcp_servers.yml"
    path.write_text(text)
    return load_mcp_servers(load_settings(env_file=None, mcp_servers_file=path), variables)


def test_variables_are_expanded_and_a_missing_one_disables_its_server(tmp_path: Path) -> None:
    servers = load(tmp_path, """
servers:
  - id: tickets
    url: https://${TICKETS_HOST}/mcp
    headers: {Authorization: "Bearer ${TICKETS_TOKEN}"}
  - {id: time, command: "${PYTHON:-python3}", args: [-m, mcp_server_time]}
""", TICKETS_HOST="mcp.example.com")
    tickets, time = servers
    assert tickets.url == "https://mcp.example.com/mcp" and not tickets.enabled
    assert tickets.unavailable_reason == "environment variable TICKETS_TOKEN is not set"
    assert time.command == "python3" and time.enabled


def test_a_pasted_claude_desktop_block_works_as_it_is(tmp_path: Path) -> None:
    (server,) = load(tmp_path, '{"mcpServers": {"time": {"command": "uvx", "args": ["mcp-server-time"]}}}')
    assert (server.id, server.transport, server.command, server.args) == ("time", "stdio", "uvx", ["mcp-server-time"])


@pytest.mark.parametrize(("text", "expected"), [
    ("servers: [a", "invalid YAML at line 1"),
    ("servers:\n  - {id: x}", "servers[0] (x): a stdio server needs 'command'"),
    ("servers:\n  - {id: x, command: y, colour: red}", "servers[0] (x): unknown field 'colour'"),
    ("servers:\n  - {id: x, command: y, unavailable_reason: z}", "servers[0]: unknown field 'unavailable_reason'"),
    ("other: 1", "unknown top-level key 'other'"),
])
def test_bad_files_are_one_line_naming_the_entry(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(McpConfigError, match=r"mcp_servers\.yml") as error:
        load(tmp_path, text)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_the_shipped_file_configures_nothing_and_a_clash_stops_start_up() -> None:
    assert load_mcp_servers(load_settings(env_file=None, mcp_servers_file=ROOT / "config" / "mcp_servers.yml")) == []
    with pytest.raises(McpConfigError, match="clash with the built-in tool 'calc__x'"):
        check_names([McpServerConfig(id="calc", command="x")], ["calc__x", "python"])
