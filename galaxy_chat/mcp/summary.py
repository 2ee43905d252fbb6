"""The `/mcp` command's answer: the configured MCP servers with their state, and the tools of theirs the person
may use (Markdown; names from the operator's file and the servers' listings, escaped)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from galaxy_chat.mcp.state import ServerState

STATE_WORDS = {"connected": "connected", "connecting": "connecting…", "failed": "failed", "disabled": "disabled"}


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def server_lines(states: Sequence[ServerState], may_use: Callable[[str], bool]) -> list[str]:
    """One line per server with a tool this person may use (or, when not connected, that they may use at all)."""
    lines = []
    for state in states:
        usable = [tool for tool in state.tools if may_use(tool.qualified_name)]
        if state.status == "connected" and usable:
            lines.append(f"{state.server_id}: connected, {len(usable)} tools")
        elif state.status != "connected" and may_use(f"{state.server_id}__*"):
            lines.append(f"{state.server_id}: {STATE_WORDS.get(state.status, state.status)}"
                         + (f" — {state.reason}" if state.reason else ""))
    return lines


def servers_markdown(states: Sequence[ServerState], may_use: Callable[[str], bool]) -> str:
    """`may_use(tool_name)`: the person's permission for one `<server>__<tool>`."""
    if not states:
        return "No MCP servers are configured (see config/mcp_servers.yml)."
    lines = ["**MCP servers** (call a tool with `/tool <name> {json}`, or let the model call it):", ""]
    for state in states:
        status = STATE_WORDS.get(state.status, state.status)
        reason = f" — {state.reason}" if state.reason and state.status != "connected" else ""
        usable = [tool for tool in state.tools if may_use(tool.qualified_name)]
        count = f", {len(usable)} of {state.tool_count} tools yours" if state.status == "connected" else ""
        lines.append(f"- {_code(state.server_id)}: {status}{reason}{count}")
        for tool in usable[:64]:
            summary = tool.description.strip().splitlines()[0][:120] if tool.description.strip() else ""
            lines.append(f"  - {_code(tool.qualified_name)}" + (f": {summary}" if summary else ""))
        lines += [f"  - _{note}_" for note in state.notes]
    return "\n".join(lines)
