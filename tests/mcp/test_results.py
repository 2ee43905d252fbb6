"""Result mapping on hand-made results: what the model reads, what the person sees, where the caps apply."""

from __future__ import annotations

import base64
import json

import mcp.types as types

from galaxy_chat.mcp.results import code_block, outcome_from_result
from galaxy_chat.vocabulary.widgets import File, Markdown, Plot, Table


def result(*content: types.ContentBlock, structured: object = None, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), structured_content=structured, is_error=is_error)


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def test_records_become_a_table_and_a_series_a_chart() -> None:
    rows = [{"region": "north", "sales": 3}, {"region": "south", "sales": 5, "note": {"x": 1}}]
    outcome = outcome_from_result(result(text("two regions"), structured={"result": rows}), label="s__t",
                                  max_chars=1000)
    table = outcome.widgets[0]
    assert isinstance(table, Table) and table.columns == ["region", "sales", "note"]
    assert table.rows == [["north", 3, None], ["south", 5, '{"x": 1}']]
    assert len(outcome.widgets) == 1  # a text column besides the numbers: no series, no chart
    assert outcome.text == "two regions" and outcome.structured == {"result": rows}
    series = [{"month": "2024-01", "sales": 3}, {"month": "2024-02", "sales": 5}]
    charted = outcome_from_result(result(structured=series), label="s__t", max_chars=1000)
    assert [type(widget) for widget in charted.widgets] == [Table, Plot]


def test_a_scalar_result_adds_no_widget_and_an_object_is_json() -> None:
    assert outcome_from_result(result(text("7"), structured={"result": 7}), label="s__t", max_chars=99).widgets == []
    shown = outcome_from_result(result(structured={"a": [1, 2]}), label="s__t", max_chars=99)
    assert isinstance(shown.widgets[0], Markdown) and shown.widgets[0].text.startswith("```json")
    assert json.loads(shown.text) == {"a": [1, 2]}  # no text content: the model reads the JSON


def test_errors_and_empty_results() -> None:
    failed = outcome_from_result(result(text("bad input"), is_error=True), label="s__t", max_chars=99)
    assert failed.is_error and failed.text == "bad input" and failed.widgets == []
    assert outcome_from_result(result(), label="s__t", max_chars=99).text == "(no output)"


def test_the_cap_for_the_model_and_the_download_for_the_person() -> None:
    long = "x" * 30_000
    outcome = outcome_from_result(result(text(long)), label="s__t", max_chars=1_000)
    assert outcome.truncated and outcome.full_chars == 30_000
    assert outcome.text.startswith("x" * 1_000) and "cut to 1,000 of 30,000 characters" in outcome.text
    assert isinstance(outcome.widgets[0], File) and outcome.widgets[0].data == long.encode()
    short = outcome_from_result(result(text("y" * 500)), label="s__t", max_chars=1_000)
    assert not short.truncated and short.widgets == []


def test_media_resources_and_bad_base64() -> None:
    audio = types.AudioContent(type="audio", data=base64.b64encode(b"RIFF").decode(), mime_type="audio/wav")
    broken = types.ImageContent(type="image", data="not base64!", mime_type="image/png")
    link = types.ResourceLink(type="resource_link", uri="file:///x.txt", name="x")
    outcome = outcome_from_result(result(audio, broken, link), label="s__t", max_chars=1_000)
    assert isinstance(outcome.widgets[0], File) and outcome.widgets[0].name == "s__t-1.wav"
    assert "invalid base64" in outcome.text and "resource link: x <file:///x.txt>" in outcome.text
    assert isinstance(outcome.widgets[1], Markdown) and "`file:///x.txt`" in outcome.widgets[1].text


def test_a_code_block_cannot_be_closed_by_its_content() -> None:
    block = code_block("a ``` b")
    assert block.startswith("````\n") and block.endswith("\n````")
