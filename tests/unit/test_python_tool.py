"""The `python` tool end to end: real sandboxed processes, results, widgets, time limits and mode choice."""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import time
import zlib
from pathlib import Path

import pytest

from galaxy_chat.settings import load_settings
from galaxy_chat.vocabulary.tool_calls import ToolCall
from galaxy_chat.vocabulary.widgets import Image, Markdown, Plot
from tests.tool_doubles import make_context
from tests.unit.test_sandbox_escapes import make_sandbox
from tools.base import ToolResult
from tools.python_exec import CodeExecutionTool, code_block, sandbox_limits
from tools.sandbox import python_sandbox as sandbox_module
from tools.sandbox.limits import Limits
from tools.sandbox.python_sandbox import PythonSandbox
from tools.tool_registry import ToolRegistry

MODES = ["bwrap", "landlock"]
PNG_MAKER = '''
import struct, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def png(width, height):
    rows = b"".join(b"\\x00" + b"\\xff\\x00\\x00" * width for _ in range(height))
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
'''


def expected_png(width: int, height: int) -> bytes:
    namespace: dict = {"struct": struct, "zlib": zlib}
    exec(PNG_MAKER, namespace)
    return namespace["png"](width, height)


@pytest.fixture(params=MODES)
def tool(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CodeExecutionTool:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env_file=None)
    return CodeExecutionTool(settings, sandbox=make_sandbox(request.param, [tmp_path], wall_s=10.0))


async def call(tool: CodeExecutionTool, code: str) -> ToolResult:
    return await tool.run(tool.Params(code=code), make_context(tool.settings))


async def test_print_returns_its_output(tool) -> None:
    result = await call(tool, "print(1)")
    assert not result.is_error
    assert result.text.startswith("exit status 0") and "stdout:\n1\n" in result.text
    assert isinstance(result.widgets[0], Markdown) and "```text\n1\n```" in result.widgets[0].text
    assert result.reduced_isolation == (tool.sandbox.active != "bwrap")


async def test_an_exception_is_exit_status_1_with_the_traceback(tool) -> None:
    result = await call(tool, "def f():\n    return 1 / 0\nf()")
    assert result.is_error and result.text.startswith("exit status 1")
    stderr = result.text.split("stderr:\n", 1)[1]
    assert 'File "<python>", line 2, in f' in stderr and "ZeroDivisionError: division by zero" in stderr
    assert "sandbox_runner" not in stderr and "exec(" not in stderr  # the runner's own frame is hidden
    exited = await call(tool, "import sys\nprint('bye')\nsys.exit(3)")
    assert exited.is_error and exited.text.startswith("exit status 3") and "bye" in exited.text


async def test_a_syntax_error_is_reported_like_python_does(tool) -> None:
    result = await call(tool, "print(1")
    assert result.is_error and "SyntaxError" in result.text


async def test_a_plotly_fig_becomes_a_plot_widget(tool) -> None:
    code = "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=['a', 'b'], y=[3, 5]))\nprint('made')"
    result = await call(tool, code)
    assert not result.is_error, result.text
    (plot,) = [widget for widget in result.widgets if isinstance(widget, Plot)]
    assert plot.figure["data"][0]["type"] == "bar" and list(plot.figure["data"][0]["y"]) == [3, 5]
    assert "Shown to the person: the plotly figure in `fig`." in result.text


async def test_a_fig_that_is_not_a_figure_is_explained(tool) -> None:
    result = await call(tool, "fig = object()")
    assert not any(isinstance(widget, Plot) for widget in result.widgets)
    assert "`fig` could not be shown as a plotly figure" in result.text


async def test_png_files_become_image_widgets(tool) -> None:
    code = PNG_MAKER + "open('chart.png', 'wb').write(png(3, 2))\nopen('fake.png', 'w').write('not an image')\n"
    result = await call(tool, code)
    images = [widget for widget in result.widgets if isinstance(widget, Image)]
    assert [(image.alt, image.data) for image in images] == [("chart.png", expected_png(3, 2))]
    assert "fake.png is not a PNG image" in result.text and "Shown to the person: chart.png." in result.text


async def test_the_number_of_images_is_capped(tool) -> None:
    code = PNG_MAKER + "for n in range(6):\n    open(f'p{n}.png', 'wb').write(png(1, 1))\n"
    result = await call(tool, code)
    assert len([widget for widget in result.widgets if isinstance(widget, Image)]) == 4
    assert "only the first 4 PNG files are shown" in result.text


async def test_output_with_backticks_cannot_break_out_of_its_code_block() -> None:
    block = code_block("````\n**bold**")
    assert block.startswith("`````text\n") and block.endswith("\n`````")


async def test_the_own_wall_clock_reports_a_timeout_through_the_registry(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env_file=None, tool_timeout_s=2.0)
    registry = ToolRegistry([CodeExecutionTool], settings)
    python = registry.tools["python"]
    assert isinstance(python, CodeExecutionTool) and python.sandbox.limits.wall_s == 1.6
    if python.sandbox.active is None:
        pytest.skip(python.startup_warning() or "no sandbox")
    began = time.monotonic()
    code = "import time\nprint('started', flush=True)\ntime.sleep(60)"
    result = await registry.bind(make_context(settings)).run(ToolCall("c1", "python", json.dumps({"code": code})))
    assert time.monotonic() - began < 4
    assert result.is_error and result.text.startswith("timed out after 1.6 s and was stopped"), result.text
    assert "started" in result.text


@pytest.mark.parametrize("mode", MODES)
async def test_cancellation_kills_the_run(mode: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(mode, [tmp_path], wall_s=60.0)
    tool = CodeExecutionTool(load_settings(env_file=None), sandbox=sandbox)
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(call(tool, "import os, time\nos.fork()\ntime.sleep(60)"), 1.0)
    assert time.monotonic() - began < 5
    if sandbox.last_cgroup is not None:
        assert not sandbox.last_cgroup.exists(), "processes of the cancelled run are still alive"


async def test_numpy_and_pandas_import_inside_when_installed(tool) -> None:
    pytest.importorskip("numpy", reason="numpy is not installed in the app's environment (extra: datasci)")
    pytest.importorskip("pandas", reason="pandas is not installed in the app's environment (extra: datasci)")
    result = await call(tool, "import numpy as np, pandas as pd\nprint(pd.DataFrame({'a': np.arange(4)})['a'].sum())")
    assert not result.is_error and "stdout:\n6\n" in result.text, result.text


def test_limits_come_from_settings() -> None:
    settings = load_settings(env_file=None, python_memory_mb=256, python_cpu_s=4, python_output_kb=8)
    limits = sandbox_limits(settings, 30.0)
    assert (limits.memory_mb, limits.cpu_s, limits.output_bytes, limits.wall_s) == (256, 4, 8192, 29.0)


def test_slash_python_accepts_a_fenced_block(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    tool = CodeExecutionTool(load_settings(env_file=None))
    assert tool.command_arguments("print(1)") == {"code": "print(1)"}
    assert tool.command_arguments("```python\nx = 2\nprint(x)\n```") == {"code": "x = 2\nprint(x)"}


async def test_without_any_sandbox_the_tool_is_disabled_unless_allowed(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sandbox_module.Bwrap, "find", staticmethod(lambda: None))
    monkeypatch.setattr(sandbox_module, "landlock_abi", lambda: 0)
    settings = load_settings(env_file=None)
    tool = CodeExecutionTool(settings)
    assert tool.sandbox.active is None
    warning = tool.startup_warning() or ""
    assert "disabled" in warning and "bwrap" in warning and "ALLOW_UNSANDBOXED_CODE=true" in warning
    refused = await call(tool, "print(1)")
    assert refused.is_error and "disabled" in refused.text
    allowed = CodeExecutionTool(load_settings(env_file=None, allow_unsandboxed_code=True))
    assert allowed.sandbox.active == "none" and "WITHOUT a sandbox" in (allowed.startup_warning() or "")
    result = await call(allowed, "print(6 * 7)")
    assert not result.is_error and "42" in result.text and result.reduced_isolation


async def test_auto_falls_back_to_landlock_and_says_so(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sandbox_module.Bwrap, "find", staticmethod(lambda: None))
    tool = CodeExecutionTool(load_settings(env_file=None))
    if tool.sandbox.active is None:
        pytest.skip(tool.startup_warning() or "Landlock does not work here")
    assert tool.sandbox.active == "landlock"
    assert "reduced isolation" in (tool.startup_warning() or "") and "not installed" in (tool.startup_warning() or "")
    result = await call(tool, "print('fallback')")
    assert result.reduced_isolation and "fallback" in result.text


def test_a_forced_mode_that_cannot_work_disables_the_tool(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sandbox_module.Bwrap, "find", staticmethod(lambda: None))
    tool = CodeExecutionTool(load_settings(env_file=None, python_sandbox="bwrap"))
    assert tool.sandbox.active is None  # never a silent fall back to weaker isolation
    assert tool.startup_warning() == ("The python tool is disabled: PYTHON_SANDBOX=bwrap does not work here "
                                      "(bubblewrap (bwrap) is not installed).")
    none = CodeExecutionTool(load_settings(env_file=None, python_sandbox="none"))
    assert none.sandbox.active is None and "needs ALLOW_UNSANDBOXED_CODE=true" in (none.startup_warning() or "")


async def test_an_app_folder_inside_a_bound_tree_is_covered_or_refused(tmp_path) -> None:
    plotly_dir = next(Path(folder) / "plotly" for folder in sys.path if (Path(folder) / "plotly").is_dir())
    landlock = PythonSandbox(Limits(), mode="landlock", hidden=[plotly_dir])
    assert landlock.active is None and "cannot hide" in (landlock.startup_warning() or "")
    bwrap = make_sandbox("bwrap", [tmp_path, plotly_dir])
    result = await CodeExecutionTool(load_settings(env_file=None), sandbox=bwrap).run(
        CodeExecutionTool.Params(code="import plotly.io"), make_context(load_settings(env_file=None)))
    assert result.is_error and ("ModuleNotFoundError" in result.text or "ImportError" in result.text), result.text
