"""What is known about each MCP server (for `/ready` and the UI), and which of its tools are offered."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from galaxy_chat.mcp.server_config import McpServerConfig

Status = Literal["connecting", "connected", "failed", "disabled"]
OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_DESCRIPTION_CHARS = 2_000


@dataclass(frozen=True)
class OfferedTool:
    """One server tool as the app offers it: `qualified_name` is what the model calls."""

    server_id: str
    name: str
    qualified_name: str
    description: str
    input_schema: dict[str, Any]
    title: str | None = None


@dataclass(frozen=True)
class ServerState:
    """A snapshot of one server; a new one replaces it on every change."""

    server_id: str
    description: str
    transport: str
    status: Status
    reason: str = ""
    tools: tuple[OfferedTool, ...] = ()
    notes: tuple[str, ...] = ()
    last_error: str | None = None
    protocol_version: str | None = None
    server_name: str | None = None
    reconnects: int = 0
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def tool_count(self) -> int:
        return len(self.tools)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `/ready` and the UI (tool schemas left out: they can be large)."""
        data = asdict(self)
        data["tools"] = [{"name": t.qualified_name, "description": t.description} for t in self.tools]
        data["tool_count"] = self.tool_count
        return data


def select_tools(
    config: McpServerConfig, listed: list[Any], invalid: dict[str, str]
) -> tuple[tuple[OfferedTool, ...], tuple[str, ...], dict[str, str]]:
    """The tools to offer from a listing (SDK `Tool` objects), notes for the person, and what was left out."""
    left_out = {name: f"invalid schema: {reason}" for name, reason in invalid.items()}
    chosen: list[OfferedTool] = []
    for tool in listed:
        if not any(fnmatchcase(tool.name, glob) for glob in config.tools):
            continue
        qualified = config.tool_name(tool.name)
        if not OPENAI_NAME.match(qualified):
            left_out[tool.name] = f"the name {qualified!r} is not 1-64 letters, digits, '_' or '-'"
            continue
        description = (tool.description or tool.title or tool.name).strip()
        if len(description) > MAX_DESCRIPTION_CHARS:
            description = description[: MAX_DESCRIPTION_CHARS - 1] + "…"
        chosen.append(OfferedTool(config.id, tool.name, qualified, description, dict(tool.input_schema), tool.title))
    notes = []
    if len(chosen) > config.max_tools:
        notes.append(f"offering the first {config.max_tools} of {len(chosen)} tools of `{config.id}`; narrow `tools:`")
        chosen = chosen[: config.max_tools]
    if invalid:
        names = ", ".join(sorted(invalid)[:5]) + (" …" if len(invalid) > 5 else "")
        notes.append(f"left out {len(invalid)} tool(s) of `{config.id}` with an invalid schema: {names}")
    misnamed = [name for name, why in left_out.items() if name not in invalid]
    if misnamed:
        notes.append(f"left out {len(misnamed)} tool(s) of `{config.id}` whose names do not fit: "
                     + ", ".join(sorted(misnamed)[:5]))
    return tuple(chosen), tuple(notes), left_out
