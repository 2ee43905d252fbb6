"""Feedback: the lines in LOG_DIR/feedback.jsonl, their safety under concurrency, and the UI that sends them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing.user_simulation import user_simulation

from galaxy_chat.core.feedback import MAX_TEXT, FeedbackLog
from galaxy_chat.ui.feedback_views import feedback_button, thumbs


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


async def test_a_thumb_is_one_json_line_in_a_private_file(tmp_path: Path) -> None:
    feedback = FeedbackLog(tmp_path / "logs")
    await feedback.record("message", "bob@example.com", "sess-1", "turn-7", "GPT-4", "down", "12 € not 10 €")
    (line,) = lines(feedback.path)
    assert feedback.path == tmp_path / "logs" / "feedback.jsonl"
    time = line.pop("time")
    assert line == {"type": "message", "user": "bob@example.com", "session": "sess-1", "message_id": "turn-7",
                    "model": "GPT-4", "rating": "down", "text": "12 € not 10 €"}
    assert datetime.fromisoformat(time).utcoffset().total_seconds() == 0
    assert stat.S_IMODE(os.stat(feedback.path).st_mode) == 0o600

    await feedback.record("general", "ann@example.com", "sess-2", None, None, 4, "x" * (MAX_TEXT + 1000))
    assert [line["rating"] for line in lines(feedback.path)] == ["down", 4]
    assert lines(feedback.path)[1]["text"] == "x" * MAX_TEXT  # capped, and the line stays valid JSON


async def test_fifty_concurrent_records_give_fifty_whole_lines(tmp_path: Path) -> None:
    feedback = FeedbackLog(tmp_path)
    # Long texts make a torn or interleaved write visible as broken JSON.
    await asyncio.gather(*(
        feedback.record("general", f"u{i}@example.com", f"s{i}", None, None, i % 5 + 1, str(i) * 1000)
        for i in range(50)
    ))
    records = lines(feedback.path)
    assert len(records) == 50
    assert sorted(record["user"] for record in records) == sorted(f"u{i}@example.com" for i in range(50))
    assert all(record["text"] == record["session"][1:] * 1000 for record in records)


@pytest.mark.parametrize("kind, rating, message_id, problem", [
    ("message", 5, "m1", "'up' or 'down', got 5"),
    ("message", "meh", "m1", "'up' or 'down', got 'meh'"),
    ("message", "up", None, "needs the message_id"),
    ("general", "up", None, "integer rating from 1 to 5, got 'up'"),
    ("general", 0, None, "from 1 to 5, got 0"),
    ("general", 6, None, "from 1 to 5, got 6"),
    ("general", True, None, "from 1 to 5, got True"),
    ("general", 3.5, None, "from 1 to 5, got 3.5"),
    ("rant", 1, None, "kind must be 'message' or 'general'"),
])
async def test_bad_feedback_is_refused_and_not_written(tmp_path: Path, kind, rating, message_id, problem) -> None:
    feedback = FeedbackLog(tmp_path)
    with pytest.raises(ValueError, match=problem):
        await feedback.record(kind, "bob@example.com", "s", message_id, None, rating, "text")
    assert not feedback.path.exists()


async def test_thumbs_down_with_a_comment_is_recorded_and_shown(tmp_path: Path) -> None:
    feedback = FeedbackLog(tmp_path)

    async def on_feedback(rating: str, comment: str) -> None:
        await feedback.record("message", "bob@example.com", "sess-1", "turn-1", "GPT-4", rating, comment)

    async with user_simulation(root=lambda: thumbs(on_feedback)) as user:
        await user.open("/")
        user.find(marker="thumb-down").click()
        await user.should_see("What was wrong with this answer?")
        user.find(marker="feedback-text").type("The total is wrong")
        user.find(marker="feedback-send").click()
        user.find(marker="feedback-send").click()  # a double click records once
        await user.should_see("Thank you for your feedback!")
        (line,) = lines(feedback.path)
        assert (line["rating"], line["text"], line["message_id"]) == ("down", "The total is wrong", "turn-1")
        (down,) = user.find(marker="thumb-down").elements
        (up,) = user.find(marker="thumb-up").elements
        assert (down.icon, "gc-negative" in down.classes) == ("thumb_down", True)
        assert (up.icon, "gc-positive" in up.classes) == ("thumb_up_off_alt", False)
        (dialog,) = user.find(ui.dialog).elements
        assert dialog.value is False


async def test_cancel_records_nothing_and_a_failure_is_a_red_toast(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[tuple[str, str]] = []

    async def on_feedback(rating: str, comment: str) -> None:
        calls.append((rating, comment))
        raise OSError("disk full")

    async with user_simulation(root=lambda: thumbs(on_feedback)) as user:
        await user.open("/")
        user.find(marker="thumb-up").click()
        await user.should_see("What was good about this answer?")
        user.find(marker="feedback-cancel").click()
        assert calls == []

        user.find(marker="thumb-up").click()
        with caplog.at_level(logging.ERROR):
            user.find(marker="feedback-send").click()
            await user.should_see("Your feedback could not be saved; please try again later.")
        assert calls == [("up", "")]
        assert "OSError: disk full" in caplog.text  # the traceback is in the server log
        (up,) = user.find(marker="thumb-up").elements
        assert (up.icon, up.classes) == ("thumb_up_off_alt", ["gc-icon-btn"])  # not recorded
        assert not user.notify.contains("Thank you")


async def test_general_feedback_needs_stars_then_sends_rating_and_text() -> None:
    received: list[tuple[int, str]] = []

    async def on_feedback(rating: int, text: str) -> None:
        received.append((rating, text))

    async with user_simulation(root=lambda: feedback_button(on_feedback)) as user:
        await user.open("/")
        (button,) = user.find(marker="feedback-button").elements
        assert button.props["data-testid"] == "feedback-button" and button.props["icon"] == "feedback"
        user.find(marker="feedback-button").click()
        await user.should_see("How do you like this app?")
        user.find(marker="general-feedback-text").type("Great for SQL")
        user.find(marker="general-feedback-send").click()
        await user.should_see("Please choose from 1 to 5 stars first.")
        assert received == []

        (rating,) = user.find(ui.rating).elements
        rating.value = 4  # what clicking the fourth star does
        user.find(marker="general-feedback-send").click()
        await user.should_see("Thank you for your feedback!")
        assert received == [(4, "Great for SQL")]
        assert rating.value == 0  # ready for the next time
