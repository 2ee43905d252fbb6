"""Direct commands: `/calc 2*(3+4)` runs a tool without any LLM, with the same checks, timeouts and events."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from galaxy_chat.core.tool_io import EventCallIO, Questions
from galaxy_chat.vocabulary.events import Done, Error, Event, TextDelta, ToolCallFinished, ToolCallStarted, Usage
from galaxy_chat.vocabulary.tool_calls import ToolCall
from tools.base import CallIO, Tool, ToolResult

HELP = "help"
TOOL = "tool"  # `/tool <name> {json}`: any tool by its name, built-in or MCP
MCP = "mcp"  # `/mcp`: the MCP servers and the tools of theirs this person may use
TOOL_USAGE = '/tool <name> {"argument": "value"}'
ServerSummary = Callable[[], str]  # the /mcp answer (Markdown) for this person


class CommandTools(Protocol):
    def commands(self) -> dict[str, Tool]: ...

    def withheld_commands(self) -> dict[str, tuple[str, str]]: ...

    async def run(self, call: ToolCall, io: CallIO | None = None) -> ToolResult: ...


def is_command(text: str) -> bool:
    return text.startswith("/") and len(text) > 1 and not text.startswith("//")


def split_command(text: str) -> tuple[str, str]:
    word, _, rest = text[1:].partition(" ")
    if "\n" in word:  # "/python\nprint(1)": the code starts on the next line
        word, _, more = word.partition("\n")
        rest = more + (" " + rest if rest else "")
    return word.lower(), rest.strip()


WITHHELD = {
    "not_permitted": "`/{word}` is not enabled for you: your permissions do not include the {tool} tool.",
    "not_selected": "`/{word}` is not chosen for this chat: start a New chat and pick {tool} in the drawer.",
}


def help_text(tools: CommandTools) -> str:
    commands = tools.commands()
    withheld = tools.withheld_commands()
    lines = ["**Commands** (they run a tool directly, without a model):", ""]
    for word, tool in sorted(commands.items()):
        usage = tool.command_help or f"/{word} …"
        summary = tool.description.strip().split(". ")[0].splitlines()[0].rstrip(".")
        lines.append(f"- `{usage}`: {summary}.")
    lines.append(f"- `{TOOL_USAGE}`: run any tool you may use by its name, with JSON arguments.")
    lines.append("- `/mcp`: the MCP servers and their tools.")
    lines.append("- `/help`: this list")
    if off := [word for word, (_, reason) in sorted(withheld.items()) if reason == "not_permitted"]:
        lines += ["", "Not enabled for you: " + ", ".join(f"`/{word}`" for word in off) + "."]
    if unchosen := [word for word, (_, reason) in sorted(withheld.items()) if reason == "not_selected"]:
        lines += ["", "Not chosen for this chat: " + ", ".join(f"`/{word}`" for word in unchosen)
                  + " (pick their tools in the drawer of a New chat)."]
    return "\n".join(lines)


def tool_command(rest: str) -> tuple[str, dict[str, Any]] | str:
    """`<name> {json}` as (name, arguments), or the sentence saying what is wrong with it."""
    name, _, raw = rest.partition(" ")
    if not name:
        return f"/tool needs a tool's name: {TOOL_USAGE}"
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return f"The arguments after /tool {name} are not valid JSON ({exc.msg} at column {exc.colno})."
    if not isinstance(arguments, dict):
        return f"The arguments after /tool {name} must be a JSON object, like {{\"text\": \"hi\"}}."
    return name, arguments


async def run_command(text: str, tools: CommandTools, questions: Questions | None = None,
                      servers: ServerSummary | None = None) -> AsyncIterator[Event]:
    """The events of one command, ending with Done, like a reply of the engine."""
    began = time.monotonic()
    word, rest = split_command(text)
    commands = tools.commands()
    if word == HELP:
        yield TextDelta(help_text(tools))
    elif word == MCP:
        yield TextDelta(servers() if servers is not None else "No MCP servers are configured.")
    elif word == TOOL:
        parsed = tool_command(rest)
        if isinstance(parsed, str):
            yield Error(parsed, kind="bad_command")
        else:
            async for event in tool_call_events(tools, *parsed, questions):
                yield event
            return
    elif word not in commands and word in (withheld := tools.withheld_commands()):
        tool_name, reason = withheld[word]
        yield Error(WITHHELD[reason].format(word=word, tool=tool_name), kind="command_not_enabled")
    elif word not in commands:
        known = ", ".join(f"/{name}" for name in sorted(commands)) or "none"
        yield Error(f"Unknown command /{word}. Commands you can use: {known}, /tool, /mcp, /help.",
                    kind="unknown_command")
    elif not rest:
        tool = commands[word]
        yield Error(f"/{word} needs an argument: {tool.command_help or '/' + word + ' …'}", kind="bad_command")
    else:
        tool = commands[word]
        async for event in tool_call_events(tools, tool.name, tool.command_arguments(rest), questions):
            yield event
        return
    yield Done(usage=Usage(), duration_s=time.monotonic() - began, first_token_s=None, rounds=0)


async def tool_call_events(tools: CommandTools, name: str, arguments: dict[str, Any],
                           questions: Questions | None = None) -> AsyncIterator[Event]:
    """One tool call made by the person (a command or a widget's button), as the engine would report it: its
    progress and questions come while it runs. Closing this generator (Stop) cancels the call."""
    began = time.monotonic()
    call = ToolCall(f"cmd_{secrets.token_hex(6)}", name, json.dumps(arguments))
    yield ToolCallStarted(call.id, call.name, call.arguments)
    reports: asyncio.Queue[Event] = asyncio.Queue()
    task = asyncio.create_task(tools.run(call, EventCallIO(call.id, reports.put_nowait, questions or Questions())))
    try:
        while not task.done():
            report = asyncio.ensure_future(reports.get())
            await asyncio.wait({task, report}, return_when=asyncio.FIRST_COMPLETED)
            if report.done():
                yield report.result()
            else:
                report.cancel()
        while not reports.empty():
            yield reports.get_nowait()
        result = task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    yield ToolCallFinished(
        call.id, call.name, result.text, result.is_error, time.monotonic() - began, list(result.widgets),
        result.reduced_isolation,
    )
    yield Done(usage=Usage(), duration_s=time.monotonic() - began, first_token_s=None, rounds=0)
