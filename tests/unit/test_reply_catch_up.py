"""Catching a followed reply up from the history: what the tab has not shown yet, and nothing it has."""

from __future__ import annotations

from galaxy_chat.core.reply_catch_up import not_shown
from galaxy_chat.vocabulary.events import (
    Done,
    Event,
    TextDelta,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    Usage,
)

DONE = Done(Usage(), 1.0, 0.1, 1)


def text(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_the_rest_of_a_text_cut_in_the_middle_and_what_follows_it() -> None:
    shown: list[Event] = [TextDelta("Hel"), TextDelta("lo wo")]
    stored: list[Event] = [TextDelta("Hello world."), DONE]
    assert not_shown(shown, stored) == [TextDelta("rld."), DONE]


def test_events_after_a_tool_call_come_whole_and_progress_the_history_drops_does_not_count() -> None:
    started = ToolCallStarted("c1", "python", "{}")
    finished = ToolCallFinished("c1", "python", "42", False, 0.2)
    shown: list[Event] = [TextDelta("Let me run it. "), started, ToolCallProgress("c1", 0.5, 1.0)]
    stored: list[Event] = [TextDelta("Let me run it. "), started, finished, TextDelta("It is 42."), DONE]
    assert not_shown(shown, stored) == [finished, TextDelta("It is 42."), DONE]


def test_a_tab_that_saw_everything_gets_only_the_end_and_one_that_saw_nothing_gets_all() -> None:
    stored: list[Event] = [TextDelta("All "), TextDelta("of it"), DONE]
    assert not_shown([TextDelta("All of it")], stored) == [DONE]
    assert text(not_shown([], stored)) == "All of it"
