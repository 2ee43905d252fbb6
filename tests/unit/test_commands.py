"""Direct commands run tools without any model, through the same checks and events as the engine."""

from __future__ import annotations

import pytest

from access.yaml_policy import YamlPolicy
from galaxy_chat.core.commands import is_command, run_command, split_command
from galaxy_chat.settings import load_settings
from galaxy_chat.vocabulary.events import Done, Error, TextDelta, ToolCallFinished, ToolCallStarted
from galaxy_chat.vocabulary.users import User
from tests.tool_doubles import BrokenTool, EchoTool, SleepyTool, make_context
from tools.base import ToolContext
from tools.tool_registry import ToolRegistry


@pytest.fixture
def bound():
    settings = load_settings(env_file=None)
    return ToolRegistry([EchoTool, SleepyTool, BrokenTool], settings).bind(make_context(settings))


async def events_of(text: str, tools) -> list:
    return [event async for event in run_command(text, tools)]


def test_recognises_commands() -> None:
    assert is_command("/calc 1+1") and is_command("/help")
    assert not is_command("/") and not is_command("hello /calc") and not is_command("//comment")
    assert split_command("/PYTHON\nprint(1)\nprint(2)") == ("python", "print(1)\nprint(2)")
    assert split_command("/calc  2 * 3 ") == ("calc", "2 * 3")


async def test_a_command_runs_its_tool_and_reports_like_a_tool_call(bound) -> None:
    events = await events_of("/echo hello world", bound)
    started, finished, done = events
    assert isinstance(started, ToolCallStarted) and started.name == "echo"
    assert started.arguments == '{"text": "hello world"}'
    assert isinstance(finished, ToolCallFinished) and finished.text == "hello world" and not finished.is_error
    assert finished.widgets[0].text == "**hello world**"
    assert isinstance(done, Done) and done.rounds == 0


async def test_help_lists_only_the_commands_this_user_has(bound) -> None:
    (text, _) = await events_of("/help", bound)
    assert isinstance(text, TextDelta)
    assert "`/echo <text>`: Echo the text back." in text.text and "/help" in text.text
    assert "sleepy" not in text.text  # a tool without a command word


async def test_unknown_command_gets_a_helpful_message(bound) -> None:
    (error, done) = await events_of("/frobnicate now", bound)
    assert isinstance(error, Error)
    assert error.message == "Unknown command /frobnicate. Commands you can use: /echo, /tool, /mcp, /help."
    assert isinstance(done, Done)


async def test_command_without_argument_says_how_to_use_it(bound) -> None:
    (error, _) = await events_of("/echo", bound)
    assert error.message == "/echo needs an argument: /echo <text>"


async def test_commands_respect_the_selection_and_policy() -> None:
    settings = load_settings(env_file=None)
    bound = ToolRegistry([EchoTool], settings).bind(make_context(settings), selected=[])
    (error, _) = await events_of("/echo hi", bound)
    assert error.message == "`/echo` is not chosen for this chat: start a New chat and pick echo in the drawer."
    (help_reply, _) = await events_of("/help", bound)
    assert "Not chosen for this chat: `/echo`" in help_reply.text


async def test_a_command_the_person_may_not_use_says_so() -> None:
    settings = load_settings(env_file=None)
    policy = YamlPolicy.parse("groups:\n  default:\n    tools: [sleepy]\n", "p.yml")
    context = ToolContext(user=User("bob@example.com"), session_id="s-1", settings=settings, policy=policy)
    bound = ToolRegistry([EchoTool, SleepyTool], settings).bind(context)
    (error, done) = await events_of("/echo hi", bound)
    assert error.message == "`/echo` is not enabled for you: your permissions do not include the echo tool."
    assert error.kind == "command_not_enabled" and isinstance(done, Done)
    (help_reply, _) = await events_of("/help", bound)
    assert "Not enabled for you: `/echo`." in help_reply.text
    assert "Unknown command" in (await events_of("/nothing", bound))[0].message
