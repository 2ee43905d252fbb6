"""The tool framework: schemas, discovery, and every failure turned into a result the model can read."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from galaxy_chat.settings import load_settings
from galaxy_chat.vocabulary.tool_calls import ToolCall
from galaxy_chat.vocabulary.users import User
from tests.tool_doubles import BrokenTool, EchoTool, SleepyTool, make_context
from tools.base import ToolContext
from tools.tool_registry import ToolConfigError, ToolRegistry, discover_tool_classes


@pytest.fixture
def bound():
    settings = load_settings(env_file=None)
    registry = ToolRegistry([EchoTool, SleepyTool, BrokenTool], settings)
    return registry.bind(make_context(settings))


def test_spec_is_the_openai_parameters_schema(bound) -> None:
    (echo,) = [spec for spec in bound.specs() if spec.name == "echo"]
    assert echo.description == "Echo the text back."
    assert echo.parameters["type"] == "object"
    assert echo.parameters["required"] == ["text"]
    assert echo.parameters["properties"]["text"]["description"] == "What to echo back."
    assert echo.parameters["properties"]["times"]["maximum"] == 5


async def test_a_valid_call_returns_text_and_widgets(bound) -> None:
    result = await bound.run(ToolCall("c1", "echo", '{"text": "hi", "times": 2}'))
    assert (result.text, result.is_error) == ("hi hi", False)
    assert result.widgets[0].model_dump() == {"kind": "markdown", "text": "**hi hi**"}


@pytest.mark.parametrize(("arguments", "expected"), [
    ('{"text": ', "are not valid JSON"),
    ('["hi"]', "must be a JSON object, not list"),
    ("{}", "Invalid arguments for echo: text: Field required"),
    ('{"text": "x", "times": 9}', "times: Input should be less than or equal to 5"),
])
async def test_bad_arguments_become_an_error_result_naming_the_problem(bound, arguments: str, expected: str) -> None:
    result = await bound.run(ToolCall("c1", "echo", arguments))
    assert result.is_error and expected in result.text


async def test_a_raising_tool_becomes_an_error_with_the_traceback_for_the_log(bound) -> None:
    result = await bound.run(ToolCall("c1", "broken", "{}"))
    assert result.is_error
    assert result.text == "The tool broken failed with an internal error (ValueError)."
    assert "flux capacitor" not in result.text
    assert "Traceback" in result.detail and "flux capacitor" in result.detail
    assert "detail" not in result.model_dump()  # never sent to the model or the page


async def test_an_overrunning_tool_is_cancelled_at_its_timeout(bound) -> None:
    began = time.monotonic()
    result = await bound.run(ToolCall("c1", "sleepy", '{"seconds": 30}'))
    assert time.monotonic() - began < 2
    assert result.is_error and result.text == "The tool sleepy timed out after 0.3 s and was stopped."
    assert 30 in SleepyTool.cancelled


async def test_unknown_or_unselected_tools_are_refused(caplog) -> None:
    settings = load_settings(env_file=None)
    registry = ToolRegistry([EchoTool, SleepyTool], settings)
    bound = registry.bind(make_context(settings), selected=["sleepy"])
    assert [spec.name for spec in bound.specs()] == ["sleepy"]
    for name in ("echo", "rm_rf"):
        result = await bound.run(ToolCall("c1", name, '{"text": "x"}'))
        assert result.is_error and result.text == f"The tool {name!r} is not available to you."
    assert "refused tool 'echo' for alice@example.com" in caplog.text


async def test_policy_decides_which_tools_a_user_gets() -> None:
    class OnlyEcho:
        def tools_for(self, user: User, available):
            return [name for name in available if name == "echo"]

        def can_use(self, user: User, kind: str, name: str) -> bool:
            return name == "echo"

    settings = load_settings(env_file=None)
    context = ToolContext(User("bob@example.com"), "s", settings, OnlyEcho())  # type: ignore[arg-type]
    bound = ToolRegistry([EchoTool, BrokenTool], settings).bind(context)
    assert [spec.name for spec in bound.specs()] == ["echo"]
    assert (await bound.run(ToolCall("c1", "broken", "{}"))).text == "The tool 'broken' is not available to you."


def test_two_tools_with_one_name_stop_startup() -> None:
    class OtherEcho(EchoTool):
        description = "Another echo."

    with pytest.raises(ToolConfigError) as caught:
        ToolRegistry([EchoTool, OtherEcho], load_settings(env_file=None))
    assert str(caught.value) == (
        "two tools are named 'echo': tests.tool_doubles.EchoTool and "
        "tests.unit.test_tool_framework.test_two_tools_with_one_name_stop_startup.<locals>.OtherEcho"
    )


def test_discovery_finds_modules_and_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "extra_tools_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "weather.py").write_text(textwrap.dedent("""
        from pydantic import BaseModel
        from tools.base import Tool, ToolResult

        class WeatherParams(BaseModel):
            city: str

        class WeatherTool(Tool):
            name = "weather"
            description = "Weather for a city."
            Params = WeatherParams

            async def run(self, args, context):
                return ToolResult(text=f"Sunny in {args.city}")
    """))
    dist = tmp_path / "weather_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: weather-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[galaxy_chat.test_tools]\nechoes = tests.tool_doubles:EchoTool\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    found = discover_tool_classes(importlib.import_module("extra_tools_pkg"), group="galaxy_chat.test_tools")
    assert sorted(cls.name for cls in found) == ["echo", "weather"]
    sys.modules.pop("extra_tools_pkg.weather", None)


def test_spec_json_is_serialisable_for_both_wire_formats(bound) -> None:
    assert json.loads(json.dumps([spec.parameters for spec in bound.specs()]))
