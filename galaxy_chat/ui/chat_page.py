"""The chat page: it renders a ChatSession's events and sends the person's input; it holds no chat logic."""

from __future__ import annotations

import logging
from typing import Any

from nicegui import Client, ui
from nicegui.events import GenericEventArguments
from starlette.requests import Request

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.limits import SendRefused
from galaxy_chat.core.turn import Turn
from galaxy_chat.services import Services
from galaxy_chat.ui.export_menu import export_menu
from galaxy_chat.ui.feedback_views import feedback_button, thumbs
from galaxy_chat.ui.marks import hint, testid
from galaxy_chat.ui.nicegui_internals import SelectWithDisabled
from galaxy_chat.ui.page_assets import add_page_assets
from galaxy_chat.ui.page_header import StatusLight, model_options
from galaxy_chat.ui.session_drawer import SessionDrawer
from galaxy_chat.ui.turn_view import TurnActions, TurnView
from galaxy_chat.ui.welcome import Welcome
from galaxy_chat.vocabulary.events import Event
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import CallTool, SendPrompt
from galaxy_chat.web.identity import client_of, current_user

log = logging.getLogger(__name__)

TURNS_PER_GROUP = 4


class ChatPage:
    def __init__(self, services: Services, user: User, client: Client) -> None:
        self.services = services
        self.user = user
        self.client = client
        self.session: ChatSession = services.sessions.active_for(user)
        self.views: dict[str, TurnView] = {}
        self.welcome: Welcome | None = None
        self.running = False
        self.turn_actions = TurnActions(self.on_button, self.send, self.add_thumbs, self.answer)
        self.group: ui.column | None = None
        self.group_size = 0
        self.build()
        self.show_session()
        client.on_delete(self.on_page_gone)

    def show_session(self) -> None:
        """Render the session so far and follow it live: one synchronous step, so no event is missed or
        shown twice (a reply still being written continues to stream here)."""
        self.conversation.clear()
        self.welcome = None
        if not self.session.turns:
            with self.conversation:
                self.welcome = Welcome(self.services.settings.app_name, self.services.tools_for(self.user),
                                       self.model_notice(), self.send)
        self.views.clear()
        self.group, self.group_size = None, 0
        for turn in self.session.turns:
            with self.turn_slot():
                view = self.views[turn.id] = TurnView(turn, self.user.email, self.turn_actions, live=False)
                for event in turn.events:
                    view.apply(event)
            view.live = True
        self.detach = self.session.attach(self.on_event, self.on_moved)
        self.model_select.set_value(self.session.model or None)
        self.drawer.show(self.session.tool_names, self.session.source_names, self.session.locked)
        self.set_running(self.session.busy)

    def turn_slot(self) -> ui.column:
        """Where the next turn goes. Turns come in groups of TURNS_PER_GROUP: adding one re-renders its group
        in the browser (a NiceGUI container is rendered again with all its children), not the conversation."""
        if self.group is None or self.group_size >= TURNS_PER_GROUP:
            with self.conversation:
                self.group = ui.column().classes("w-full gap-3")
            self.group_size = 0
        self.group_size += 1
        return self.group

    def on_moved(self) -> None:
        """This chat was opened in another tab or browser: this page stops taking input."""
        with self.conversation:
            ui.notify("This chat is now open in another tab. Reload this page to continue here.",
                      type="warning", position="top", timeout=0, close_button=True)
        self.input.disable()
        self.action.disable()

    def build(self) -> None:
        settings = self.services.settings
        available = self.services.tools.all_tools()
        tools = {name: available[name].description for name in self.services.tools_for(self.user) if name in available}
        sources = self.services.data.descriptions(self.services.data_sources_for(self.user))
        self.drawer = SessionDrawer(tools, sources, self.services.mcp_lines_for(self.user))
        with ui.header(elevated=True).classes("items-center no-wrap gap-1 sm:gap-2 px-2 sm:px-3 py-1 bg-grey-10"):
            hint(ui.button(icon="menu", on_click=self.drawer.drawer.toggle).props("flat round dense"), "Tools")
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
        self.conversation = ui.column().classes("gc-main grow gap-3 px-2 pb-4").mark("conversation")
        # The box and the button sit in the footer itself, centred (page CSS), not in a row of their own.
        with ui.footer().classes("gc-footer bg-grey-10 px-2 py-2 items-end no-wrap gap-2 justify-center"):
            placeholder = "Message (Enter sends, Shift+Enter adds a line, / for commands)"
            self.input = testid(ui.textarea(placeholder=placeholder).props("autogrow outlined dense autofocus")
                                .classes("gc-input grow"), "chat-input")
            # One button: Send, and Stop while a reply runs.
            self.action = testid(ui.button(icon="send").props("round color=primary data-state=send"), "send-button")
        # The browser takes the text out of the box and clears it at once (no round trip before the box is
        # empty, and no update of the box from the server); see gcTakeInput in page.js.
        def take(button: str) -> str:
            return f"() => emit(window.gcTakeInput({self.input.id}, {button}))"

        self.action.on("click", self.on_action, js_handler=take(str(self.action.id)))
        # `.exact` leaves Shift+Enter alone (a new line); `.prevent` keeps Enter from adding one before sending.
        self.input.on("keydown.enter.exact.prevent", self.send_from_input, js_handler=take("null"))

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
        if not text:
            return
        if not await self.send(text):
            self.input.set_value(taken or text)  # refused: give the text back
        elif taken is None:
            self.input.set_value("")

    async def send(self, text: str, action: CallTool | None = None) -> bool:
        try:
            if not self.session.locked:
                self.session.choose(self.drawer.selected_tools, self.drawer.selected_sources)
            self.session.send(text, action)
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
        ui.notify("New chat started", type="info", position="top")

    def set_running(self, running: bool) -> None:
        """The one button is Send or Stop; `data-state` tells the page's script which (test ids are for tests)."""
        if running == self.running:
            return
        self.running = running
        testid(self.action, "stop-button" if running else "send-button")
        self.action.props["data-state"] = "stop" if running else "send"
        self.action.props(f"icon={'stop' if running else 'send'} color={'negative' if running else 'primary'}")

    def on_event(self, turn: Turn, event: Event | None) -> None:
        """Called by the session for every event of its replies (None: a turn has started)."""
        with self.conversation:  # for toasts; a new turn goes into a group of its own
            view = self.views.get(turn.id)
            if view is None:
                with self.turn_slot():
                    view = self.views[turn.id] = TurnView(turn, self.user.email, self.turn_actions)
                self.set_running(True)
            if event is not None:
                view.apply(event)
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


def register_chat_page(services: Services) -> None:
    add_page_assets()

    @ui.page("/", title=services.settings.app_name)
    def chat_page(request: Request, client: Client) -> None:
        user = current_user(request)
        log.info("page opened by %s from %s", user.email, client_of(request))
        ChatPage(services, user, client)
