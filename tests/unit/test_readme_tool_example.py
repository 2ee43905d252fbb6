"""The README's "Write your own tool" example really works: discovered, offered, run as a command."""

from __future__ import annotations

import importlib
import re

import pytest

from galaxy_chat.core.commands import run_command
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.app_process import ROOT
from galaxy_chat.vocabulary.events import ToolCallFinished
from galaxy_chat.vocabulary.widgets import Plot
from tests.tool_doubles import make_context
from tools.tool_registry import ToolRegistry, discover_tool_classes


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- tool-example:start -->\n```python\n(.*?)```\n<!-- tool-example:end -->", readme, re.S)
    assert match, "the README lost its tool example"
    return match.group(1)


async def test_the_readme_tool_example_runs(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = readme_example()
    assert 15 <= len(code.strip().splitlines()) <= 35  # "about 20 lines"
    package = tmp_path / "readme_tools"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "dice.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    classes = discover_tool_classes(importlib.import_module("readme_tools"), group="galaxy_chat.none")
    settings = load_settings(env_file=None)
    bound = ToolRegistry(classes, settings).bind(make_context(settings))
    (spec,) = bound.specs()
    assert spec.name == "dice" and spec.parameters["properties"]["rolls"]["maximum"] == 10_000
    events = [event async for event in run_command("/dice 500", bound)]
    finished = next(event for event in events if isinstance(event, ToolCallFinished))
    assert not finished.is_error and finished.text.startswith("Rolled 500 times;")
    assert isinstance(finished.widgets[0], Plot)
    assert sum(finished.widgets[0].figure["data"][0]["y"]) == 500
