"""The server list: our `servers:` shape, pasted `mcpServers:` blocks, and one-line errors naming the entry."""

from __future__ import annotations

import pytest
import yaml

from galaxy_chat.mcp import McpConfigError, parse_mcp_servers

WHERE = "config/mcp_servers.yml"


def test_our_shape() -> None:
    data = yaml.safe_load("""
servers:
  - id: time
    description: Clock and time zones
    command: uvx
    args: [mcp-server-time]
    env: {TZ: UTC}
    tools: ["get_*"]
  - id: wiki
    url: https://wiki.example.org/mcp
    headers: {Authorization: Bearer abc}
    forward_identity: true
    timeout_s: 20
    max_result_chars: 8000
""")
    time, wiki = parse_mcp_servers(data, WHERE)
    assert (time.transport, time.command, time.args, time.env, time.tools) == (
        "stdio", "uvx", ["mcp-server-time"], {"TZ": "UTC"}, ["get_*"])
    assert (wiki.transport, wiki.forward_identity, wiki.identity_header, wiki.timeout_s) == (
        "streamable-http", True, "X-EMAIL-USER", 20)
    assert wiki.tool_name("search") == "wiki__search"
    assert parse_mcp_servers(None, WHERE) == []


def test_a_pasted_mcp_servers_block() -> None:
    data = yaml.safe_load("""
mcpServers:
  filesystem:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"]
  remote:
    type: http
    url: https://mcp.example.org/mcp
    headers: {X-Api-Key: k}
  legacy:
    type: sse
    url: https://old.example.org/sse
    timeout: 30000
  paused:
    command: something
    disabled: true
""")
    servers = {server.id: server for server in parse_mcp_servers(data, WHERE)}
    assert servers["filesystem"].transport == "stdio"
    assert servers["remote"].transport == "streamable-http" and servers["remote"].headers == {"X-Api-Key": "k"}
    assert servers["legacy"].transport == "sse"
    assert servers["paused"].enabled is False


@pytest.mark.parametrize(("data", "message"), [
    ({"servers": [{"id": "a", "command": "x"}, {"id": "b", "command": "y"}, {"id": "github", "url": "ftp://x"}]},
     "config/mcp_servers.yml: servers[2] (github): an HTTP server needs 'url' starting with http:// or https://"),
    ({"servers": [{"id": "gh", "url": "https://x", "command": "y"}]},
     "servers[0] (gh): 'command'/'args'/'env'/'cwd' belong to a stdio server"),
    ({"servers": [{"id": "a", "command": "x", "colour": "red"}]}, "servers[0] (a): unknown field 'colour'"),
    ({"servers": [{"id": "a b", "command": "x"}]}, "servers[0] (a b): field 'id': must be 1-24 letters"),
    ({"servers": [{"id": "a__b", "command": "x"}]}, "without '__'"),
    ({"servers": [{"id": "x" * 25, "command": "x"}]}, "field 'id'"),
    ({"servers": [{"id": "a", "command": "x", "timeout_s": 0}]}, "field 'timeout_s': Input should be greater than 0"),
    ({"servers": [{"id": "a", "command": "x", "forward_identity": True}]}, "'forward_identity' needs an HTTP server"),
    ({"servers": [{"id": "a", "url": "http://h", "forward_identity": True, "headers": {"x-email-user": "me"}}]},
     "'headers' must not set X-EMAIL-USER"),
    ({"servers": [{"id": "a", "url": "http://h", "transport": "sse", "forward_identity": True}]},
     "streamable-http only"),
    ({"servers": [{"id": "a"}]}, "a stdio server needs 'command'"),
    ({"servers": [{"id": "a", "command": "x", "tools": []}]}, "field 'tools'"),
    ({"servers": [{"id": "A", "command": "x"}], "mcpServers": {"a": {"command": "y"}}}, "'a' is used twice"),
    ({"mcpServers": {"x": {"type": "websocket", "url": "ws://h"}}}, "mcpServers.x: field 'type': unknown transport"),
    ({"mcpServers": {"my server": {"command": "x"}}}, "mcpServers.my server: field 'id'"),
    ({"mcpServers": ["a"]}, "'mcpServers' must be a mapping"),
    (yaml.safe_load("mcpServers: {off: {command: x}}"), "mcpServers.False: the server name must be text"),
    ({"servers": {"a": 1}}, "'servers' must be a list"),
    ({"servers": ["a"]}, "servers[0]: expected a mapping, got a string"),
    ({"server": []}, "unknown top-level key 'server'"),
    ([1, 2], "expected a mapping with 'servers:' or 'mcpServers:', got a list"),
])
def test_errors_are_one_line_naming_the_entry(data: object, message: str) -> None:
    with pytest.raises(McpConfigError) as raised:
        parse_mcp_servers(data, WHERE)
    text = str(raised.value)
    assert message in text and "\n" not in text and text.startswith(WHERE)
