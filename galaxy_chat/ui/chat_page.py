"""The chat page (`/` and `/c/<id>`): the history panel, the conversation, the input; it renders a
ChatSession's events and sends the person's input, and holds no chat logic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nicegui import Client, ui
from nicegui.events import GenericEventArguments

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.history_recorder import title_from
from galaxy_chat.core.limits import SendRefused
from galaxy_chat.core.turn import Turn
from galaxy_chat.services import Services
from galaxy_chat.ui.admin_page import admin_link
from galaxy_chat.ui.chat_input import ChatInput
from galaxy_chat.ui.conversation_view import ConversationView
from galaxy_chat.ui.export_menu import export_menu
from galaxy_chat.ui.feedback_views import feedback_button, thumbs
from galaxy_chat.ui.history_panel import HistoryPanel
from galaxy_chat.ui.marks import hint, testid
from galaxy_chat.ui.nicegui_internals import SelectWithDisabled
from galaxy_chat.ui.page_header import StatusLight, model_options
from galaxy_chat.ui.session_drawer import SessionDrawer
from galaxy_chat.ui.turn_view import TurnActions
from galaxy_chat.ui.welcome import Welcome
from galaxy_chat.vocabulary.attachments import Attachment
from galaxy_chat.vocabulary.events import Event
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import CallTool, SendPrompt

log = logging.getLogger(__name__)

class ChatPage:
    def __init__(self, services: Services, user: User, client: Client, session: ChatSession) -> None:
        self.services = services
        self.user = user
        self.client = client
        self.session = session
        self.welcome: Welcome | None = None
        self.turn_actions = TurnActions(self.on_button, self.send, self.add_thumbs, self.answer,
                                        self.regenerate, self.edit, self.show_version)
        self.detach: Callable[[], None] = lambda: None
        self.build()
        self.show_session()
        history = services.history
        self.unwatch = history.on_health_change(self.on_history_health) if history is not None else lambda: None
        client.on_delete(self.on_page_gone)

    def show_session(self) -> None:
        """Render the session so far and follow it live: one synchronous step, so no event is missed or
        shown twice (a reply still being written continues to stream here)."""
        self.detach()
        self.chat.clear()
        self.welcome = None
        if not self.session.turns:
            with self.chat.column:
                self.welcome = Welcome(self.services.settings.app_name, self.services.tools_for(self.user),
                                       self.model_notice(), self.send)
        self.chat.render(self.session.turns)
        self.entry.tray.for_chat(self.session.id)
        self.detach = self.session.attach(self.on_event, self.on_moved, self.on_retitled)
        self.model_select.set_value(self.session.model or None)
        self.drawer.show(self.session.tool_names, self.session.source_names, self.session.locked)
        self.history_panel.set_current(self.session.id if self.session.turns else "")
        self.set_running(self.session.busy)

    def on_moved(self) -> None:
        """This chat was opened in another tab or browser: this page stops taking input."""
        with self.chat.column:
            ui.notify("This chat is now open in another tab. Reload this page to continue here.",
                      type="warning", position="top", timeout=0, close_button=True)
        self.entry.disable()

    def build(self) -> None:
        settings = self.services.settings
        available = self.services.tools.all_tools()
        tools = {name: available[name].description for name in self.services.tools_for(self.user) if name in available}
        sources = self.services.data.descriptions(self.services.data_sources_for(self.user))
        with ui.left_drawer(value=False, bordered=True).props("width=280 breakpoint=1023 show-if-above").classes(
                "gc-history-drawer bg-grey-10 q-pa-sm gap-2") as history_drawer:
            self.history_panel = HistoryPanel(self.services.history, self.user.email, self.open_chat,
                                              self.chat_deleted)
        self.drawer = SessionDrawer(tools, sources, self.services.mcp_lines_for(self.user))
        with ui.header(elevated=True).classes("items-center no-wrap gap-1 sm:gap-2 px-2 sm:px-3 py-1 bg-grey-10"):
            hint(testid(ui.button(icon="menu", on_click=history_drawer.toggle).props("flat round dense"),
                        "history-button"), "Your chats")
            ui.label(settings.app_name).classes("text-h6 font-medium ellipsis min-w-[5rem] gt-xs").mark("app-name")
            if self.user.test_mode:
                hint(ui.badge("test mode", color="orange").props("outline").mark("test-mode-badge"),
                     "Identity is not checked: everyone is signed in as the test user.")
            options, disabled = model_options(self.services.model_choices(self.user))
            self.model_select = testid(SelectWithDisabled(
                options, disabled, value=self.session.model or None, on_change=self.on_model_change,
            ).props("dense outlined options-dense").classes("min-w-[6rem] max-w-[16rem] shrink ml-auto"),
                "model-select")
            self.status_light = StatusLight(self.services.health, self.services.models, self.refresh_notice)
            self.status_light.show(self.session.model)
            ui.label(self.user.email).classes("gc-email text-body2 ellipsis min-w-0 gt-xs").mark("user-email")
            hint(testid(ui.button(icon="add_comment", on_click=self.new_chat).props("flat round dense"),
                        "new-chat-button"), "New chat")
            export_menu(lambda: self.session, settings.app_name).props("flat round dense")
            feedback_button(self.general_feedback).props("flat round dense")
            admin_link(self.services, self.user)
            hint(testid(ui.button(icon="tune", on_click=self.drawer.drawer.toggle).props("flat round dense"),
                        "chat-settings-button"), "Tools and data sources of this chat")
        self.chat = ConversationView(self.user.email, self.turn_actions)
        self.entry = ChatInput(self.services.uploads, self.user.email, self.session.id,
                               settings.upload_max_mb << 20, self.send_from_input, self.on_action)
        self.input = self.entry.box

    def model_notice(self) -> str:
        return self.services.model_notice(self.user, self.session.model)

    def refresh_notice(self) -> None:
        if self.welcome is not None:
            self.welcome.show_notice(self.model_notice())

    def on_model_change(self) -> None:
        model = self.model_select.value or ""
        if model == self.session.model:
            return
        try:
            self.session.switch_model(model)
        except SendRefused as refusal:
            ui.notify(str(refusal), type="warning", position="top")
            self.model_select.set_value(self.session.model or None)
            return
        self.status_light.show(model)
        self.refresh_notice()

    async def on_action(self, event: GenericEventArguments) -> None:
        if self.session.busy:
            self.stop()
        else:
            await self.send_from_input(event)

    async def send_from_input(self, event: GenericEventArguments) -> None:
        """The text comes with the event from a browser, which has already cleared the box; without it (an
        event raised on the server), it is read from the box here."""
        taken = event.args if isinstance(event.args, str) else None
        text = (taken if taken is not None else self.input.value or "").strip()
        files = self.entry.tray.take()
        if not text and files:
            text = "(attached: " + ", ".join(file.name for file in files) + ")"
        if not text:
            return
        if not await self.send(text, files=files):
            self.input.set_value(taken or text)  # refused: give the text and the files back
            self.entry.tray.give_back(files)
        elif taken is None:
            self.input.set_value("")

    async def send(self, text: str, action: CallTool | None = None, files: list[Attachment] | None = None) -> bool:
        try:
            if not self.session.locked:
                self.session.choose(self.drawer.selected_tools, self.drawer.selected_sources)
            self.session.send(text, action, files or [])
        except SendRefused as refusal:
            ui.notify(str(refusal), type="warning", position="top")
            return False
        except Exception:
            log.exception("could not start a reply")
            ui.notify("The message could not be sent. Please try again.", type="negative", position="top")
            return False
        self.drawer.lock(True)
        if self.welcome is not None:  # gone with the first message: no element of it stays on the page
            self.welcome.remove()
            self.welcome = None
        return True

    def stop(self) -> None:
        self.session.stop()

    async def new_chat(self) -> None:
        self.detach()
        self.session = self.services.sessions.new_for(self.user)
        self.show_session()
        ui.navigate.history.push("/")
        ui.notify("New chat started", type="info", position="top")

    async def open_chat(self, conversation_id: str) -> None:
        """A chat from the history panel becomes the person's live session (their current one ends)."""
        if conversation_id == self.session.id:
            return
        try:
            session = await self.services.sessions.open(self.user, conversation_id)
        except Exception:
            log.exception("could not open chat %s", conversation_id)
            session = None
        if session is None:
            ui.notify("That chat could not be opened.", type="warning", position="top")
            return
        self.detach()
        self.session = session
        self.show_session()
        ui.navigate.history.push(f"/c/{session.id}")

    async def chat_deleted(self, conversation_id: str) -> None:
        if conversation_id in (self.session.id, "*"):  # the open chat was deleted: start a fresh one
            await self.new_chat()

    async def regenerate(self) -> bool:
        return self._start(lambda: self.session.regenerate(self.model_select.value or None))

    async def edit(self, text: str) -> bool:
        return self._start(lambda: self.session.edit(text))

    def _start(self, begin: Callable[[], Turn]) -> bool:
        try:
            begin()
        except SendRefused as refusal:
            ui.notify(str(refusal), type="warning", position="top")
            return False
        return True

    def on_retitled(self, title: str) -> None:
        self.history_panel.retitled(self.session.id, title)

    def show_version(self, newest: Turn, index: int) -> None:
        self.chat.show_version(newest, index)

    def on_history_health(self, healthy: bool) -> None:
        with self.chat.column:
            if healthy:
                ui.notify("History is being saved again.", type="positive", position="top")
            else:
                ui.notify("History is not being saved right now: your chat works, and it will be saved when the "
                          "database is back.", type="warning", position="top", timeout=10_000)

    def set_running(self, running: bool) -> None:
        self.entry.set_running(running)

    def on_event(self, turn: Turn, event: Event | None) -> None:
        """Called by the session for every event of its replies (None: a turn has started)."""
        if event is None:
            first = len(self.session.turns) == 1 and not turn.earlier
            self.chat.turn_started(turn)
            self.set_running(True)
            if first:  # the chat is in the history from now on, at its own address
                self.history_panel.started(self.session.id, title_from(turn.text))
                ui.navigate.history.replace(f"/c/{self.session.id}")
            return
        self.chat.apply(turn, event)
        if turn.finished:
            self.set_running(False)

    async def on_button(self, action: SendPrompt | CallTool) -> None:
        if isinstance(action, SendPrompt):
            await self.send(action.prompt)
            return
        await self.send(f"▶ {action.tool}", action)

    def answer(self, question_id: str, action: str, content: dict[str, Any] | None) -> bool:
        return self.session.answer(question_id, action, content)

    def add_thumbs(self, turn: Turn) -> None:
        session = self.session

        async def record(rating: str, comment: str) -> None:
            await self.services.feedback.record("message", self.user.email, session.id, turn.id, turn.model,
                                                rating, comment)

        thumbs(record)

    async def general_feedback(self, rating: int, text: str) -> None:
        await self.services.feedback.record("general", self.user.email, self.session.id, None, self.session.model,
                                            rating, text)

    def on_page_gone(self) -> None:
        """The tab is gone for good. The session and a running reply go on (a reload attaches again)."""
        self.detach()
        self.unwatch()
