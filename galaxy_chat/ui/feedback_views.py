"""Feedback controls: thumbs under a reply and the header's "feedback" button, each with a small dialog.

They only collect what the person says and hand it to a callback (the page binds it to FeedbackLog);
a failing callback becomes a red toast and a server log line, never a broken page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from nicegui import ui

from galaxy_chat.core.feedback import MAX_TEXT
from galaxy_chat.ui.icon_button import IconButton
from galaxy_chat.ui.marks import hint, testid

log = logging.getLogger(__name__)

MessageFeedback = Callable[[str, str], Awaitable[None]]  # (rating "up"/"down", comment)
GeneralFeedback = Callable[[int, str], Awaitable[None]]  # (rating 1-5, text)
CHOSEN = {"up": "positive", "down": "negative"}


def _comment_area(label: str, marker: str) -> ui.textarea:
    return (ui.textarea(label).props(f"outlined autogrow counter maxlength={MAX_TEXT}")
            .classes("w-full").mark(marker))


async def _send(dialog: ui.dialog, call: Callable[[], Awaitable[None]], what: str) -> bool:
    """Close the dialog first (a double click must not record twice, a failure must not trap the person),
    then run the callback."""
    if not dialog.value:
        return False
    dialog.close()
    try:
        await call()
    except Exception:
        log.exception("recording %s failed", what)
        ui.notify("Your feedback could not be saved; please try again later.", type="negative")
        return False
    ui.notify("Thank you for your feedback!", type="positive")
    return True


class _CommentDialog:
    """The thumbs' dialog, built on first use: most replies never get a thumb, and elements cost memory."""

    def __init__(self, on_send: Callable[[], Awaitable[None]]) -> None:
        with ui.dialog() as self.dialog, ui.card().classes("w-96 max-w-full"):
            self.title = ui.label().classes("text-subtitle1")
            self.comment = _comment_area("Comment (optional)", "feedback-text")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat").mark("feedback-cancel")
                ui.button("Send", on_click=on_send).props("color=primary").mark("feedback-send")


def thumbs(on_feedback: MessageFeedback) -> ui.row:
    """Thumbs up/down for one assistant reply; the chosen thumb stays coloured once recorded."""
    chosen = {"rating": "up"}
    dialogs: list[_CommentDialog] = []

    def mark_chosen(rating: str) -> None:
        for name, button in buttons.items():  # the latest recorded choice wins
            button.show_chosen(CHOSEN[name] if name == rating else None)
            button.icon = f"thumb_{name}" if name == rating else f"thumb_{name}_off_alt"

    async def send() -> None:
        rating, box = chosen["rating"], dialogs[0]
        comment = (box.comment.value or "").strip()
        if await _send(box.dialog, lambda: on_feedback(rating, comment), "message feedback"):
            mark_chosen(rating)

    def open_dialog(rating: str) -> None:
        chosen["rating"] = rating
        if not dialogs:
            with row:
                dialogs.append(_CommentDialog(send))
        box = dialogs[0]
        box.title.text = "What was good about this answer?" if rating == "up" else "What was wrong with this answer?"
        box.comment.value = ""
        box.dialog.open()

    with ui.row().classes("items-center gap-0 no-wrap").mark("thumbs") as row:
        buttons = {
            rating: IconButton(f"thumb_{rating}_off_alt", label, lambda r=rating: open_dialog(r))
            .mark(f"thumb-{rating}") for rating, label in (("up", "Good answer"), ("down", "Bad answer"))
        }
    return row


def feedback_button(on_feedback: GeneralFeedback) -> ui.button:
    """The header's button for general feedback: a 1-5 rating and a text, sent together. The dialog is
    built on first use: elements are most of what an open tab costs the server."""
    place = ui.context.slot.parent
    dialogs: list[ui.dialog] = []

    def build() -> ui.dialog:
        with place, ui.dialog() as dialog, ui.card().classes("w-96 max-w-full"):
            ui.label("How do you like this app?").classes("text-subtitle1")
            rating = ui.rating(value=0, max=5, size="md", icon="star_border", icon_selected="star").mark(
                "feedback-rating")
            text = _comment_area("Tell us more (optional)", "general-feedback-text")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat").mark("general-feedback-cancel")
                send_button = ui.button("Send").props("color=primary").mark("general-feedback-send")

        async def send() -> None:
            stars = int(rating.value or 0)
            if not 1 <= stars <= 5:
                ui.notify("Please choose from 1 to 5 stars first.", type="warning")
                return
            if await _send(dialog, lambda: on_feedback(stars, (text.value or "").strip()), "general feedback"):
                rating.value, text.value = 0, ""

        send_button.on_click(send)
        return dialog

    def open_dialog() -> None:
        if not dialogs:
            dialogs.append(build())
        dialogs[0].open()

    button = testid(ui.button(icon="feedback", on_click=open_dialog).props("flat round dense"), "feedback-button")
    hint(button, "Send feedback")
    return button
