"""A card per tool call: name, arguments, a live elapsed time while running (with the tool's progress and its
questions as forms), then duration, result and widgets."""

from __future__ import annotations

import time

from nicegui import ui

from galaxy_chat.ui.marks import hint, testid
from galaxy_chat.ui.question_form import AnswerHandler, QuestionForm
from galaxy_chat.ui.widget_views import ButtonHandler, render_widget
from galaxy_chat.vocabulary.events import (
    ToolCallAnswer,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallQuestion,
    ToolCallStarted,
)
from galaxy_chat.vocabulary.tool_calls import pretty_arguments

MAX_SHOWN_RESULT = 20_000


class ToolCard:
    def __init__(self, started: ToolCallStarted) -> None:
        self.began = time.monotonic()
        with testid(ui.card().classes("gc-tool-card w-full q-pa-sm gap-1").props("flat bordered"), "tool-card") as card:
            self.card = card
            with ui.row().classes("items-center gap-2 no-wrap w-full"):
                self.icon = ui.icon("build", size="xs").classes("text-primary")
                ui.label(started.name).classes("font-mono text-body2 font-medium")
                self.spinner = ui.spinner(size="sm")
                self.timing = ui.label("0 s").classes("text-caption text-grey-5").mark("tool-timing")
                ui.space()
                self.badges = ui.row().classes("gap-1")
            with ui.expansion("Arguments", icon="data_object").classes("w-full text-caption").props("dense"):
                ui.code(pretty_arguments(started.arguments), language="json").classes("w-full text-caption")
            self.result_area = ui.column().classes("w-full gap-1")
        self.widgets = ui.column().classes("w-full gap-2")
        self.ticker = ui.timer(1.0, self._tick)
        self.progress_bar: ui.linear_progress | None = None  # made when the tool first reports progress
        self.progress_text: ui.label | None = None
        self.questions: dict[str, QuestionForm] = {}

    def progress(self, event: ToolCallProgress) -> None:
        """A bar when the total is known, the message otherwise (and beside the bar)."""
        known = event.total is not None and event.total > 0 and event.progress is not None
        with self.result_area:
            if known and self.progress_bar is None:
                self.progress_bar = testid(ui.linear_progress(value=0, show_value=False).props("rounded"),
                                           "tool-progress")
            if event.message and self.progress_text is None:
                self.progress_text = testid(ui.label().classes("text-caption text-grey-4"), "tool-progress-text")
        if known and self.progress_bar is not None:
            self.progress_bar.set_value(min(1.0, max(0.0, float(event.progress) / float(event.total))))  # type: ignore[arg-type]
        if event.message and self.progress_text is not None:
            self.progress_text.set_text(event.message[:300])

    def ask(self, question: ToolCallQuestion, on_answer: AnswerHandler | None) -> None:
        with self.result_area:
            self.questions[question.question_id] = QuestionForm(question, on_answer)

    def answered(self, answer: ToolCallAnswer) -> None:
        form = self.questions.get(answer.question_id)
        if form is not None:
            form.answered(answer)

    def _tick(self) -> None:
        self.timing.set_text(f"{time.monotonic() - self.began:.0f} s")

    def finish(self, finished: ToolCallFinished, on_button: ButtonHandler | None) -> None:
        self.ticker.deactivate()
        self.spinner.set_visibility(False)
        if self.progress_bar is not None:
            self.progress_bar.delete()
            self.progress_bar = None
        self.timing.set_text(f"{finished.duration_s:.2f} s")
        if finished.reduced_isolation:
            with self.badges:
                hint(ui.badge("reduced isolation", color="orange").props("outline").mark("reduced-isolation"),
                     "This tool ran with weaker sandboxing than intended (see the server's /ready).")
        text = finished.text if len(finished.text) <= MAX_SHOWN_RESULT else finished.text[:MAX_SHOWN_RESULT] + " …"
        with self.result_area:
            if finished.is_error:
                self.card.classes("gc-tool-error")
                self.icon.props("name=error").classes(replace="text-negative")
                ui.label(text).classes("text-negative text-body2 whitespace-pre-wrap").mark("tool-error")
            elif not finished.widgets:  # the text is all there is to see: show it
                ui.label(text).classes("text-body2 whitespace-pre-wrap break-words").mark("tool-result")
            else:
                with ui.expansion("Result", icon="output").classes("w-full text-caption").props("dense"):
                    ui.label(text).classes("font-mono text-caption whitespace-pre-wrap break-all")
        with self.widgets:
            for widget in finished.widgets:
                render_widget(widget, on_button)
