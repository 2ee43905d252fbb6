"""Widgets are data: each kind survives a JSON round trip (logs, export, history) with what the person sees."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from pydantic import TypeAdapter, ValidationError

from galaxy_chat.vocabulary.widgets import (
    Buttons,
    CallTool,
    CustomWidget,
    File,
    Image,
    Markdown,
    Plot,
    SendPrompt,
    Table,
)
from tools.base import ToolResult

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def round_trip(widget):
    return type(widget).model_validate_json(widget.model_dump_json())


def test_table_is_capped_with_an_honest_note() -> None:
    rows = [[i, f"name {i}"] for i in range(1000)]
    table = Table.capped(["id", "name"], rows, limit=50)
    assert len(table.rows) == 50 and table.total_rows == 1000
    assert table.note == "showing 50 of 1000 rows"
    assert Table.capped(["id"], [[1], [2]]).note == ""
    assert round_trip(table) == table


def test_plot_from_a_plotly_figure_is_plain_json() -> None:
    figure = go.Figure(go.Bar(x=["Jan", "Feb"], y=[3, 5]), layout={"title": {"text": "Sales"}})
    plot = Plot.from_figure(figure)
    assert plot.figure["data"][0]["type"] == "bar"
    assert list(plot.figure["data"][0]["y"]) == [3, 5]
    assert json.loads(plot.model_dump_json())["figure"]["layout"]["title"]["text"] == "Sales"


def test_binary_widgets_travel_as_base64() -> None:
    image, file = Image(data=PNG, alt="chart"), File(name="report.csv", data=b"a,b\n1,2\n", mime="text/csv")
    dumped = json.loads(image.model_dump_json())
    assert dumped["data"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
    assert round_trip(image).data == PNG
    assert round_trip(file).data == b"a,b\n1,2\n"


def test_buttons_carry_prompt_or_tool_actions() -> None:
    buttons = Buttons(buttons=[
        {"label": "Explain", "action": {"type": "prompt", "prompt": "Explain this table"}},
        {"label": "Top 5", "action": {"type": "tool", "tool": "sql_query", "arguments": {"sql": "SELECT 1"}}},
    ])
    assert isinstance(buttons.buttons[0].action, SendPrompt)
    tool_action = buttons.buttons[1].action
    assert isinstance(tool_action, CallTool) and tool_action.arguments == {"sql": "SELECT 1"}
    assert round_trip(buttons) == buttons
    with pytest.raises(ValidationError):
        Buttons(buttons=[{"label": "x", "action": {"type": "shell", "command": "rm"}}])


def test_tool_result_serialises_its_widgets_for_the_log() -> None:
    result = ToolResult(text="ok", widgets=[Markdown(text="**ok**"), Table.capped(["a"], [[1]])], detail="tb")
    dumped = json.loads(result.model_dump_json())
    assert [w["kind"] for w in dumped["widgets"]] == ["markdown", "table"]
    assert "detail" not in dumped


def test_a_custom_widget_must_render() -> None:
    class Half(CustomWidget):
        value: int

    with pytest.raises(TypeError):
        Half(value=1)  # type: ignore[abstract]

    class Gauge(CustomWidget):
        kind: str = "gauge"
        value: int

        def render(self) -> None:
            return None

    gauge = Gauge(value=70)
    assert json.loads(gauge.model_dump_json()) == {"kind": "gauge", "value": 70}
    assert TypeAdapter(Gauge).validate_python({"value": 3}).value == 3


def test_images_are_what_their_bytes_say_and_old_exports_still_load() -> None:
    jpeg = Image(data=b"\xff\xd8\xff\xe0" + b"\x00" * 8)
    assert jpeg.mime == "image/jpeg"
    assert Image.model_validate_json('{"kind": "image", "png": "iVBORw0KGgoAAAAAAAAAAA=="}').mime == "image/png"
    with pytest.raises(ValidationError, match="PNG, JPEG, GIF or WebP"):
        Image(data=b"<svg onload='alert(1)'/>")
