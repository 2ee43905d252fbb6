"""Reads config/mcp_servers.yml (MCP_SERVERS_FILE) with the conventions of the other YAML files: `${VAR}` and
`${VAR:-default}` in every text value, one-line errors naming the file and the entry. A server whose entry
names a variable that is not set is kept, disabled, with the reason shown in /ready and the drawer; an absent
file configures no server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from galaxy_chat.mcp.server_config import McpConfigError, McpServerConfig, parse_mcp_servers
from galaxy_chat.settings import Settings
from galaxy_chat.yaml_config import expand, load_yaml, read_text, variables_from

log = logging.getLogger(__name__)


def _expanded(value: Any, variables: Mapping[str, str], missing: list[str]) -> Any:
    if isinstance(value, str):
        text, lacking = expand(value, variables)
        missing += lacking
        return text
    if isinstance(value, list):
        return [_expanded(item, variables, missing) for item in value]
    if isinstance(value, dict):
        return {key: _expanded(item, variables, missing) for key, item in value.items()}
    return value


def _disable_unresolved(raw: Any, variables: Mapping[str, str], where: str) -> Any:
    """Each server entry with its variables expanded; those that miss one get `enabled: false` and a reason."""
    if not isinstance(raw, dict):
        return raw

    def entry(value: Any, label: str) -> Any:
        if not isinstance(value, dict):
            return value
        if "unavailable_reason" in value:
            raise McpConfigError(f"{where}: {label}: unknown field 'unavailable_reason'")
        missing: list[str] = []
        expanded = _expanded(value, variables, missing)
        if missing:
            names = ", ".join(dict.fromkeys(missing))
            log.warning("%s: %s: disabled, environment variable %s not set", where, label, names)
            expanded = {**expanded, "enabled": False,
                        "unavailable_reason": f"environment variable {names} is not set"}
        return expanded

    data = dict(raw)
    if isinstance(data.get("servers"), list):
        data["servers"] = [entry(item, f"servers[{index}]") for index, item in enumerate(data["servers"])]
    if isinstance(data.get("mcpServers"), dict):
        data["mcpServers"] = {name: entry(item, f"mcpServers.{name}") for name, item in data["mcpServers"].items()}
    return data


def load_mcp_servers(settings: Settings, variables: Mapping[str, str] | None = None) -> list[McpServerConfig]:
    path = settings.mcp_servers_file
    text = read_text(path, McpConfigError)
    if text is None:
        return []
    where = str(path)
    data = _disable_unresolved(load_yaml(text, where, McpConfigError), variables or variables_from(settings), where)
    return parse_mcp_servers(data, where)
