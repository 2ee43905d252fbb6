"""Conversation export: what a person finds in the .txt, .md and .json files, and JSON read back."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import markdown
import pytest
from nicegui.testing.user_simulation import user_simulation

from galaxy_chat.core.export import (
    ExportHeader,
    export_bytes,
    export_filename,
    load_export,
    to_json,
    to_markdown,
    to_text,
)
from galaxy_chat.core.turn import Turn
from galaxy_chat.ui.export_menu import export_menu
from galaxy_chat.vocabulary.event_json import load_widget
from galaxy_chat.vocabulary.events import Done, Error, Status, TextDelta, ToolCallFinished, ToolCallStarted, Usage
from galaxy_chat.vocabulary.widgets import Button, Buttons, CustomWidget, Image, Markdown, Plot, SendPrompt, Table

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
FIGURE = {"data": [{"type": "bar", "x": ["FR", "DE"], "y": [2, 1]}], "layout": {"title": {"text": "Users by country"}}}
BROKEN_RESULT = "Traceback (most recent call last):\n```\nSyntaxError: bad ``` here\n````"


def at(minute: int, second: int = 0) -> datetime:
    return datetime(2024, 5, 1, 10, minute, second, tzinfo=UTC)


def realistic_turns() -> list[Turn]:
    """A tool call with a table, a plot and an image; a stopped reply; an error; a failing tool."""
    table = Table(columns=["country", "n"], rows=[["FR", 2], ["DE", 1]], total_rows=2)
    answered = Turn("How many users per country? Plot it.", "GPT-4", id="t1", at=at(0, 5), events=[
        TextDelta("Let me "), TextDelta("check."),
        ToolCallStarted("call_1", "sql_query", '{"sql": "SELECT country, count(*) FROM users GROUP BY 1"}'),
        Status("Still working — 5 s", 5.0),
        ToolCallFinished("call_1", "sql_query", "country,n\nFR,2\nDE,1", False, 0.42,
                         [table, Plot(figure=FIGURE), Image(data=PNG, alt="users chart"),
                          Buttons(buttons=[Button(label="By city", action=SendPrompt(prompt="Now by city"))])]),
        TextDelta("France has **2** users."),
        Done(Usage(120, 40), 2.5, 0.3, 2),
    ])
    stopped = Turn("Write a long poem", "GPT-4", id="t2", at=at(1), events=[
        TextDelta("Roses are red\n"), TextDelta("```python\nprint("), Done(Usage(), 1.2, 0.1, 1, stopped=True),
    ])
    failed = Turn("Hello?", "Claude", id="t3", at=at(2), events=[
        Error("The model did not answer in time.", detail="ReadTimeout at https://llm.internal/v1", kind="timeout"),
        Done(Usage(), 10.0, None, 1),
    ])
    tool_error = Turn("Run it", "GPT-4", id="t4", at=at(3), events=[
        ToolCallStarted("call_9", "python_run", '{"code": "print(\'```\')"}'),
        ToolCallFinished("call_9", "python_run", BROKEN_RESULT, True, 0.05),
        TextDelta("The code failed."), Done(Usage(10, 5), 0.5, 0.2, 1),
    ])
    return [answered, stopped, failed, tool_error]


@pytest.fixture
def header() -> ExportHeader:
    return ExportHeader("Galaxy Chat", "bob@example.com", "sess-abc123", at(0), "GPT-4",
                        ["sql_query", "python_run"], ["sales.db"])


def test_text_export_reads_like_the_conversation(header: ExportHeader) -> None:
    text = to_text(header, realistic_turns())
    for line in ("Galaxy Chat — conversation", "User: bob@example.com", "Session: sess-abc123",
                 "Started: 2024-05-01 10:00:00 UTC", "Model: GPT-4", "Tools: sql_query, python_run",
                 "Data sources: sales.db", "Turn 1 — 2024-05-01 10:00:05 UTC", "You (bob@example.com):",
                 "How many users per country? Plot it.", "Assistant (GPT-4):", "Let me check.",
                 "Tool call: sql_query (call_1), arguments:",
                 '      "sql": "SELECT country, count(*) FROM users GROUP BY 1"',  # pretty JSON, indented
                 "Result of sql_query (ok, 0.42 s):", "    FR,2", "country | n", "FR | 2",
                 "[Plot: Users by country — open the JSON export to see it again]",
                 f"[Image: users chart, PNG, {len(PNG)} bytes]", "[Buttons: By city]",
                 "France has **2** users.", "Reply took 2.5 s (2 model calls, 120 tokens in, 40 out).",
                 "Stopped by the person after 1.2 s.", "Error: The model did not answer in time.",
                 "Result of python_run (failed, 0.05 s):", "The code failed."):
        assert line in text.splitlines(), line
    # Text and tool calls stay in the order they happened; transient status ticks and internal detail are gone.
    assert text.index("Let me check.") < text.index("Tool call: sql_query") < text.index("France has")
    assert "Still working" not in text
    assert "llm.internal" not in text


def test_markdown_export_has_headings_fences_and_a_real_table(header: ExportHeader) -> None:
    md = to_markdown(header, realistic_turns())
    assert md.startswith("# Galaxy Chat — conversation\n")
    assert "- Tools: sql_query, python_run" in md
    assert "## Turn 2 — 2024-05-01 10:01:00 UTC" in md
    assert "> How many users per country? Plot it." in md
    assert "| country | n |\n| --- | --- |\n| FR | 2 |" in md
    assert "![users chart](data:image/png;base64," in md
    assert "**Stopped by the person after 1.2 s.**" in md

    html = markdown.markdown(md, extensions=["fenced_code", "tables"])
    assert "<h2>Turn 4 — 2024-05-01 10:03:00 UTC</h2>" in html
    assert "<td>FR</td>" in html
    assert "&quot;sql&quot;: &quot;SELECT country" in html  # arguments inside a code block


def test_a_result_full_of_backticks_cannot_break_out_of_its_fence(header: ExportHeader) -> None:
    md = to_markdown(header, realistic_turns())
    fence_line = md.splitlines()[md.splitlines().index("Result of python_run (failed, 0.05 s):") + 1]
    fence = fence_line.removesuffix("text")
    assert set(fence) == {"`"} and len(fence) == 5  # longer than the ```` run inside
    assert f"{fence}text\n{BROKEN_RESULT}\n{fence}\n" in md

    html = markdown.markdown(md, extensions=["fenced_code"])
    block = re.search(r'<pre><code class="language-text">(Traceback.*?)</code></pre>', html, re.S)
    assert block is not None and "SyntaxError: bad ``` here" in block.group(1)
    assert "<p>The code failed.</p>" in html  # the text after the result is ordinary text again


def test_a_reply_stopped_inside_a_code_block_does_not_swallow_the_rest(header: ExportHeader) -> None:
    html = markdown.markdown(to_markdown(header, realistic_turns()), extensions=["fenced_code"])
    assert '<code class="language-python">print(' in html
    assert "<h2>Turn 3 — 2024-05-01 10:02:00 UTC</h2>" in html


def test_json_export_round_trip_rebuilds_turns_and_widgets(header: ExportHeader) -> None:
    turns = realistic_turns()
    document = json.loads(to_json(header, turns))
    assert (document["format"], document["version"]) == ("galaxy-chat-export", 1)
    assert document["user"] == "bob@example.com" and document["data_sources"] == ["sales.db"]
    widgets = document["turns"][0]["events"][4]["widgets"]
    assert [w["kind"] for w in widgets] == ["table", "plot", "image", "buttons"]
    assert isinstance(widgets[2]["data"], str)  # bytes travel as base64 text

    loaded = load_export(to_json(header, turns))
    assert loaded.header == header
    expected = [dataclasses.replace(t) for t in turns]
    expected[2].events[0] = Error("The model did not answer in time.", detail="", kind="timeout")
    assert loaded.turns == expected  # every event, widget and field, in order
    image = loaded.turns[0].events[4].widgets[2]
    assert isinstance(image, Image) and image.data == PNG
    assert "llm.internal" not in to_json(header, turns)  # the internal detail never leaves the server


def test_unknown_and_broken_widgets_come_back_as_a_note() -> None:
    class Gauge(CustomWidget):
        kind: str = "gauge"
        level: int = 3

        def render(self) -> None: ...

    header = ExportHeader("App", "a@b.co", "s1234567", at(0), "m")
    turn = Turn("hi", "m", at=at(1), events=[ToolCallFinished("c", "t", "ok", False, 0.1, [Gauge()])])
    (loaded,) = load_export(to_json(header, [turn])).turns
    (note,) = loaded.events[0].widgets
    assert note == Markdown(text="(a gauge widget that cannot be shown here)")
    assert load_widget({"kind": "table", "columns": "not a list"}).kind == "markdown"


@pytest.mark.parametrize("text, problem", [
    ("not json", "Expecting value"), ('{"format": "other"}', "not a Galaxy Chat JSON export"),
    ('{"format": "galaxy-chat-export", "version": 9}', "version 9 is not supported"),
    ('{"format": "galaxy-chat-export", "version": 1}', "damaged"),
])
def test_loading_a_wrong_file_says_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        load_export(text)


def test_filenames_and_media_types(header: ExportHeader) -> None:
    assert export_filename("md", datetime(2024, 5, 1, 9, 7)) == "galaxy-chat-20240501-0907.md"
    for ext, media_type in (("txt", "text/plain"), ("md", "text/markdown"), ("json", "application/json")):
        content, filename, media = export_bytes(ext, header, realistic_turns())
        assert re.fullmatch(rf"galaxy-chat-\d{{8}}-\d{{4}}\.{ext}", filename)
        assert media.startswith(media_type)
        assert "bob@example.com" in content.decode("utf-8")


def test_header_of_a_session() -> None:
    session = SimpleNamespace(id="sess-1", user=SimpleNamespace(email="e@x.io"), started_at=at(0), model="M",
                              tool_names=["calc"], source_names=[], turns=[])
    assert ExportHeader.of(session, "Acme") == ExportHeader("Acme", "e@x.io", "sess-1", at(0), "M", ["calc"], [])


def fake_session(turns: list[Turn]) -> SimpleNamespace:
    return SimpleNamespace(id="sess-abc123", user=SimpleNamespace(email="bob@example.com"), started_at=at(0),
                           model="GPT-4", tool_names=["sql_query"], source_names=["sales.db"], turns=turns)


async def test_export_menu_downloads_each_format() -> None:
    session = fake_session(realistic_turns())
    async with user_simulation(root=lambda: export_menu(lambda: session, "Acme Chat")) as user:
        await user.open("/")
        (button,) = user.find(marker="export-button").elements
        assert button.props["data-testid"] == "export-button" and button.props["icon"] == "download"
        user.find(marker="export-button").click()
        await user.should_see("Markdown (.md)")

        user.find(marker="export-txt").click()
        text = (await user.download.next()).content.decode("utf-8")
        assert text.startswith("Acme Chat — conversation\n") and "France has **2** users." in text
        await user.should_see("Exported galaxy-chat-")

        user.find(marker="export-md").click()
        assert "## Turn 4" in (await user.download.next()).content.decode("utf-8")

        user.find(marker="export-json").click()
        loaded = load_export((await user.download.next()).content)
        assert loaded.header.app_name == "Acme Chat" and len(loaded.turns) == 4
        assert isinstance(loaded.turns[0].events[4].widgets[1], Plot)


async def test_export_menu_with_nothing_or_a_failure_says_so(caplog: pytest.LogCaptureFixture) -> None:
    sessions = [fake_session([])]

    def get_session() -> SimpleNamespace:
        if not sessions:
            raise RuntimeError("session vanished")
        return sessions[0]

    async with user_simulation(root=lambda: export_menu(get_session, "Acme Chat")) as user:
        await user.open("/")
        user.find(marker="export-button").click()
        user.find(marker="export-txt").click()
        await user.should_see("Nothing to export yet")
        with pytest.raises(TimeoutError):
            await user.download.next(timeout=0.3)

        sessions.clear()
        with caplog.at_level(logging.ERROR):
            user.find(marker="export-json").click()
            await user.should_see("The export failed; please try again.")
        assert "RuntimeError: session vanished" in caplog.text
