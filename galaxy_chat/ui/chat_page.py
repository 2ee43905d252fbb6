"""The chat page: header, conversation area and message input. It renders; it holds no chat logic."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui
from starlette.requests import Request

from galaxy_chat.settings import Settings
from galaxy_chat.web.identity import current_user

PAGE_CSS = """
.gc-input textarea { min-height: 4.5em; max-height: 40vh; overflow-y: auto; }
.gc-conversation { max-width: 960px; margin: 0 auto; width: 100%; }
"""


def register_chat_page(settings: Settings) -> None:
    @ui.page("/", title=settings.app_name)
    def chat_page(request: Request) -> None:
        user = current_user(request)
        ui.add_css(PAGE_CSS)
        with ui.header(elevated=True).classes("items-center no-wrap gap-3 px-4 py-2 bg-grey-10"):
            ui.icon("forum", size="sm").classes("text-primary")
            ui.label(settings.app_name).classes("text-h6 font-medium").mark("app-name")
            if user.test_mode:
                ui.badge("test mode", color="orange").props("outline").mark("test-mode-badge").tooltip(
                    "Identity is not checked: everyone is signed in as the test user."
                )
            ui.space()
            with ui.row().classes("items-center gap-1 no-wrap min-w-0"):
                ui.icon("account_circle", size="sm")
                ui.label(user.email).classes("text-body2 ellipsis").mark("user-email")

        with ui.column().classes("gc-conversation grow gap-2 px-2 pb-48") as conversation:
            conversation.mark("conversation")
            empty_hint = ui.label("Start the conversation below.").classes("self-center text-grey-6 q-mt-xl")

        with ui.footer().classes("bg-grey-10 px-2 py-2"), ui.row().classes(
            "gc-conversation items-end no-wrap gap-2"
        ):
            message_input = (
                ui.textarea(placeholder="Message (Enter sends, Shift+Enter adds a line)")
                .props("autogrow outlined dense rows=3 autofocus")
                .classes("gc-input grow")
                .mark("message-input")
            )
            send_button = ui.button(icon="send").props("round color=primary").mark("send")
            send_button.tooltip("Send")

        def send() -> None:
            text = (message_input.value or "").strip()
            if not text:
                return
            empty_hint.set_visibility(False)
            with conversation:
                ui.chat_message(
                    text, name=user.email, sent=True, stamp=datetime.now().strftime("%H:%M")
                ).classes("w-full").mark("user-message")
            message_input.value = ""
            ui.notify("No language model is connected yet, so there is no reply.", type="info", position="top")

        send_button.on_click(send)
        # `.exact` leaves Shift+Enter alone (new line); `.prevent` stops Enter from adding one before send.
        message_input.on("keydown.enter.exact.prevent", send)
