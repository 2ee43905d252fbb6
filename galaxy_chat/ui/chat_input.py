"""The chat's input, in the page's footer: the files for the next message (chips), the attach button, the text
box and the one button that is Send, or Stop while a reply runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui
from nicegui.events import GenericEventArguments

from galaxy_chat.files import Uploads
from galaxy_chat.ui.attachments import AttachmentTray
from galaxy_chat.ui.marks import testid

PLACEHOLDER = "Message (Enter sends, Shift+Enter adds a line, / for commands; drop or paste files to attach)"


class ChatInput:
    def __init__(self, uploads: Uploads | None, owner: str, conversation_id: str, max_bytes: int,
                 on_send: Callable[[GenericEventArguments], Awaitable[None]],
                 on_action: Callable[[GenericEventArguments], Awaitable[None]]) -> None:
        self.running = False
        # The box and the button sit in the footer itself, centred (page CSS), the chips in a row above them.
        with ui.footer().classes("gc-footer bg-grey-10 px-2 py-2 items-end gap-x-2 gap-y-1 justify-center"):
            self.tray = AttachmentTray(uploads, owner, conversation_id, max_bytes)
            self.box = testid(ui.textarea(placeholder=PLACEHOLDER).props("autogrow outlined dense autofocus")
                              .classes("gc-input grow"), "chat-input")
            with self.box.add_slot("prepend"):  # inside the box: on a phone the box keeps the footer's width
                self.tray.button()
            self.button = testid(ui.button(icon="send").props("round color=primary data-state=send"), "send-button")
        # The browser takes the text out of the box and clears it at once (no round trip before the box is
        # empty, and no update of the box from the server); see gcTakeInput in page.js.
        def take(button: str) -> str:
            return f"() => emit(window.gcTakeInput({self.box.id}, {button}))"

        self.button.on("click", on_action, js_handler=take(str(self.button.id)))
        # `.exact` leaves Shift+Enter alone (a new line); `.prevent` keeps Enter from adding one before sending.
        self.box.on("keydown.enter.exact.prevent", on_send, js_handler=take("null"))

    def set_running(self, running: bool) -> None:
        """The one button is Send or Stop; `data-state` tells the page's script which (test ids are for tests)."""
        if running == self.running:
            return
        self.running = running
        testid(self.button, "stop-button" if running else "send-button")
        self.button.props["data-state"] = "stop" if running else "send"
        self.button.props(f"icon={'stop' if running else 'send'} color={'negative' if running else 'primary'}")

    def disable(self) -> None:
        self.box.disable()
        self.button.disable()
