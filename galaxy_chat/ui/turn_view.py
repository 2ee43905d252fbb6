"""One turn on the page: the person's bubble, then the reply built from the engine's events as they come.

`apply(event)` is the only way in, for live events and for replaying a finished turn alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from nicegui import ui

from galaxy_chat.core.turn import Turn
from galaxy_chat.ui.attachments import attached
from galaxy_chat.ui.icon_button import IconButton
from galaxy_chat.ui.marks import testid
from galaxy_chat.ui.question_form import AnswerHandler
from galaxy_chat.ui.streaming_markdown import StreamingMarkdown
from galaxy_chat.ui.tool_card import ToolCard
from galaxy_chat.ui.widget_views import ButtonHandler
from galaxy_chat.vocabulary.events import (
    Done,
    Error,
    Event,
    Notice,
    Sources,
    Status,
    TextDelta,
    ToolCallAnswer,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallQuestion,
    ToolCallStarted,
)


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def bubble(meta: str, side: str) -> ui.label:
    """A message: who and when as its text, its content as children. Plain elements, not Quasar's chat
    message: every update re-renders the whole page in the browser, so each turn's parts cost every update."""
    return testid(ui.label(meta).classes(f"gc-msg gc-msg-{side}"), f"message-{side}")


@dataclass(frozen=True)
class TurnActions:
    """What a turn's controls do on the page; None where a control has nothing to do (it is shown disabled)."""

    on_button: ButtonHandler | None = None  # a widget's button
    on_retry: Callable[[str], Awaitable[object]] | None = None  # Retry after an error: send the text again
    thumbs: Callable[[Turn], None] | None = None  # add the feedback thumbs under a finished reply
    on_answer: AnswerHandler | None = None  # the person's answer to a tool's question
    on_regenerate: Callable[[], Awaitable[object]] | None = None  # answer the last message again
    on_edit: Callable[[str], Awaitable[bool]] | None = None  # send the last message again, changed
    on_version: Callable[[Turn, int], None] | None = None  # show version `index` of a turn (its newest: turn)


class TurnView:
    def __init__(self, turn: Turn, user_email: str, actions: TurnActions, live: bool = True, *,
                 newest: Turn | None = None, last: bool = False) -> None:
        """`newest`: the turn whose version this is (itself when None); `last`: the chat's last turn, which can
        be answered again or edited."""
        self.turn = turn
        self.newest = newest or turn
        self.last = last
        self.controls: list[ui.element] = []  # regenerate and edit: only while this is the last turn
        self.actions = actions
        self.on_button = actions.on_button
        self.on_retry = actions.on_retry
        self.thumbs = actions.thumbs
        self.live = live
        self.text = ""
        self.markdown: StreamingMarkdown | None = None
        self.cards: dict[str, ToolCard] = {}
        stamp = local_time(turn.at)
        with bubble(f"{user_email} · {stamp}", "user") as self.user_bubble:
            self.user_text = ui.label(turn.text).classes("gc-bubble-body whitespace-pre-wrap break-words")
            if turn.attachments:
                attached(turn.attachments)
        who = "command" if turn.direct else (turn.model or "no model")
        with (bubble(f"{who} · {stamp}", "assistant"), ui.column().classes("gc-bubble-body gap-1") as self.column,
              ui.column().classes("w-full gap-2 gc-reply-body") as self.body):
            self.thinking = ui.element("span").classes("gc-thinking").props('role=status aria-label="Thinking"')
            # Ready before the first token, which then goes out as a small change and needs no update of the
            # page's elements; the page's CSS hides the "thinking" dots once there is text.
            self.markdown = StreamingMarkdown()
        self.status: ui.label | None = None  # made when first needed, like the footer: fewer elements per turn

    def apply(self, event: Event) -> None:
        if isinstance(event, TextDelta):  # the hot path; the page's CSS hides the dots once text shows
            self._text(event.text)
            return
        if not self.thinking.is_deleted:
            self.thinking.set_visibility(False)
        if isinstance(event, ToolCallStarted):
            self._close_text()
            with self.body:
                self.cards[event.call_id] = ToolCard(event)
        elif isinstance(event, ToolCallFinished):
            card = self.cards.get(event.call_id)
            if card is None:  # finished without a start (e.g. replayed from an export)
                with self.body:
                    card = self.cards[event.call_id] = ToolCard(ToolCallStarted(event.call_id, event.name, "{}"))
            card.finish(event, self.on_button)
        elif isinstance(event, ToolCallProgress | ToolCallQuestion | ToolCallAnswer):
            self._tool_report(event)
        elif isinstance(event, Status):
            if self.status is None:
                with self.column:
                    self.status = testid(ui.label().classes("text-caption text-grey-5"), "status-line")
            self.status.set_text(event.text)
            self.status.set_visibility(True)
        elif isinstance(event, Sources):
            self._sources(event)
        elif isinstance(event, Notice):
            with self.column:
                testid(ui.label(event.text).classes("text-caption text-amber-4"), "notice-line")
            if self.live:
                ui.notify(event.text, type="info", position="top")
        elif isinstance(event, Error):
            self._error(event)
        elif isinstance(event, Done):
            self._done(event)

    def _tool_report(self, event: ToolCallProgress | ToolCallQuestion | ToolCallAnswer) -> None:
        card = self.cards.get(event.call_id)
        if card is None:
            return
        if isinstance(event, ToolCallProgress):
            card.progress(event)
        elif isinstance(event, ToolCallQuestion):
            card.ask(event, self.actions.on_answer)
        else:
            card.answered(event)

    def _sources(self, event: Sources) -> None:
        """The passages the model was given, as expandable citations above its answer."""
        with self.body, ui.expansion(f"Sources used ({len(event.passages)})", icon="menu_book").classes(
            "w-full text-caption"
        ).props("dense").mark("citations"):
            for number, passage in enumerate(event.passages, 1):
                with ui.column().classes("gap-0 q-mb-sm"):
                    ui.label(f"[{number}] {passage.source_name}: {passage.title}").classes(
                        "text-body2 font-medium")
                    ui.label(passage.location).classes("text-caption text-grey-6")
                    excerpt = passage.text
                    ui.label(excerpt[:400] + (" …" if len(excerpt) > 400 else "")).classes(
                        "text-caption text-grey-4 whitespace-pre-wrap")

    def _text(self, text: str) -> None:
        self.text += text
        if self.markdown is None:
            with self.body:
                self.markdown = StreamingMarkdown()
        self.markdown.append(text)

    def _close_text(self) -> None:
        if self.markdown is not None:
            self.markdown.close()
            self.markdown = None

    def _error(self, event: Error) -> None:
        self._close_text()
        with self.body, ui.row().classes("items-center gap-2 text-negative").mark("reply-error"):
            ui.icon("error_outline")
            ui.label(event.message).classes("text-body2")  # the user sentence; never `detail`
            if self.on_retry is not None and event.retryable:
                retry = self.on_retry
                testid(ui.button("Retry", icon="refresh", on_click=lambda: retry(self.turn.text)).props(
                    "flat dense no-caps color=negative"), "retry-button")
        if self.live:
            ui.notify(event.message, type="negative", position="top")

    def _done(self, event: Done) -> None:
        self._close_text()
        self.thinking.delete()  # a hidden element still costs every re-render around it
        if self.status is not None:
            self.status.set_visibility(False)
        with self.column, ui.row().classes("items-center gap-1 text-caption text-grey-6"):
            if event.stopped:
                ui.badge("stopped", color="grey").props("outline").mark("stopped-badge")
            if event.rounds:
                usage = event.usage
                ui.label(f"{event.duration_s:.1f} s · {usage.input_tokens} in / {usage.output_tokens} out tokens")
            if self.text:
                text = self.text
                IconButton("content_copy", "Copy the reply", lambda: _copy(text)).mark("copy-button")
            if self.thumbs is not None and event.rounds:
                self.thumbs(self.turn)
            self._versions()
            if self.last:
                self._last_controls()

    def _versions(self) -> None:
        """`< i/n >` when the turn has earlier versions (regenerated or edited)."""
        versions, on_version = self.newest.versions, self.actions.on_version
        if len(versions) < 2 or on_version is None:
            return
        shown = next(index for index, version in enumerate(versions) if version is self.turn)
        newest = self.newest
        with ui.row().classes("items-center gap-0 no-wrap").mark("versions"):
            earlier = IconButton("chevron_left", "Earlier version", lambda: on_version(newest, shown - 1))
            ui.label(f"{shown + 1}/{len(versions)}").mark("version-number")
            later = IconButton("chevron_right", "Later version", lambda: on_version(newest, shown + 1))
        for button, name, usable in ((earlier, "version-earlier", shown > 0),
                                     (later, "version-later", shown < len(versions) - 1)):
            testid(button, name)
            if not usable:
                button.props["disabled"] = True

    def _last_controls(self) -> None:
        if self.actions.on_regenerate is not None:
            regenerate = self.actions.on_regenerate
            self.controls.append(IconButton("refresh", "Answer again (with the model chosen above)",
                                            lambda: regenerate()).mark("regenerate-button"))
        if self.actions.on_edit is not None and not self.turn.action:
            self.controls.append(IconButton("edit", "Edit your message and send it again",
                                            self._open_editor).mark("edit-button"))

    def not_last(self) -> None:
        """A newer turn started: this one can no longer be answered again."""
        self.last = False
        for control in self.controls:
            if not control.is_deleted:  # an earlier version may be shown in its place
                control.delete()
        self.controls.clear()

    def _open_editor(self) -> None:
        on_edit = self.actions.on_edit
        if on_edit is None or self.user_text.is_deleted:
            return
        self.user_text.set_visibility(False)
        with self.user_bubble, ui.column().classes("gc-bubble-body w-full gap-1").mark("edit-box") as box:
            area = testid(ui.textarea(value=self.turn.text).props("autogrow outlined dense").classes("w-full"),
                          "edit-input")
            with ui.row().classes("gap-2 justify-end w-full"):
                def cancel() -> None:
                    box.delete()
                    self.user_text.set_visibility(True)

                async def send() -> None:
                    if await on_edit(area.value or ""):
                        box.delete()

                testid(ui.button("Cancel", on_click=cancel).props("flat dense no-caps"), "edit-cancel")
                testid(ui.button("Send", on_click=send).props("dense no-caps color=primary"), "edit-send")


def _copy(text: str) -> None:
    ui.clipboard.write(text)
    ui.notify("Copied", type="positive", position="top", timeout=1000)
