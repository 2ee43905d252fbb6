"""Direct commands: `/calc 2*(3+4)` runs a tool without any LLM, with the same checks, timeouts and events."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from galaxy_chat.core.events import Done, Error, Event, TextDelta, ToolCallFinished, ToolCallStarted
from galaxy_chat.llm.messages import ToolCall, Usage
from tools.base import Tool, ToolResult

HELP = "help"


class CommandTools(Protocol):
    def commands(self) -> dict[str, Tool]: ...

    async def run(self, call: ToolCall) -> ToolResult: ...


def is_command(text: str) -> bool:
    return text.startswith("/") and len(text) > 1 and not text.startswith("//")


def split_command(text: str) -> tuple[str, str]:
    word, _, rest = text[1:].partition(" ")
    if "\n" in word:  # "/python\nprint(1)": the code starts on the next line
        word, _, more = word.partition("\n")
        rest = more + (" " + rest if rest else "")
    return word.lower(), rest.strip()


def help_text(tools: CommandTools) -> str:
    commands = tools.commands()
    if not commands:
        return "No commands are available to you."
    lines = ["**Commands** (they run a tool directly, without a model):", ""]
    for word, tool in sorted(commands.items()):
        usage = tool.command_help or f"/{word} …"
        summary = tool.description.strip().split(". ")[0].splitlines()[0].rstrip(".")
        lines.append(f"- `{usage}`: {summary}.")
    lines.append("- `/help`: this list")
    return "\n".join(lines)


async def run_command(text: str, tools: CommandTools) -> AsyncIterator[Event]:
    """The events of one command, ending with Done, like a reply of the engine."""
    began = time.monotonic()
    word, rest = split_command(text)
    commands = tools.commands()
    if word == HELP:
        yield TextDelta(help_text(tools))
    elif word not in commands:
        known = ", ".join(f"/{name}" for name in sorted(commands)) or "none"
        yield Error(f"Unknown command /{word}. Commands you can use: {known}, /help.", kind="unknown_command")
    elif not rest:
        tool = commands[word]
        yield Error(f"/{word} needs an argument: {tool.command_help or '/' + word + ' …'}", kind="bad_command")
    else:
        tool = commands[word]
        async for event in tool_call_events(tools, tool.name, tool.command_arguments(rest)):
            yield event
        return
    yield Done(usage=Usage(), duration_s=time.monotonic() - began, first_token_s=None, rounds=0)


async def tool_call_events(tools: CommandTools, name: str, arguments: dict[str, Any]) -> AsyncIterator[Event]:
    """One tool call made by the person (a command or a widget's button), as the engine would report it."""
    began = time.monotonic()
    call = ToolCall(f"cmd_{secrets.token_hex(6)}", name, json.dumps(arguments))
    yield ToolCallStarted(call.id, call.name, call.arguments)
    result = await tools.run(call)
    yield ToolCallFinished(
        call.id, call.name, result.text, result.is_error, time.monotonic() - began, list(result.widgets),
        result.reduced_isolation,
    )
    yield Done(usage=Usage(), duration_s=time.monotonic() - began, first_token_s=None, rounds=0)
