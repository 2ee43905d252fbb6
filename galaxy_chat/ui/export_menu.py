"""The header's export button: a menu of Text, Markdown and JSON downloads of the current chat."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from nicegui import ui

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.export import ExportHeader, export_bytes
from galaxy_chat.ui.marks import hint, testid

log = logging.getLogger(__name__)

CHOICES = (("txt", "Text (.txt)"), ("md", "Markdown (.md)"), ("json", "JSON (.json)"))


def export_menu(get_session: Callable[[], ChatSession], app_name: str) -> ui.button:
    """A download button; `get_session` is asked at click time, so a "new chat" exports the new session."""

    async def download(ext: str) -> None:
        try:
            session = get_session()
            if not session.turns:
                ui.notify("Nothing to export yet", type="info")
                return
            header = ExportHeader.of(session, app_name)
            # Snapshot in the event loop (a running reply appends events), then format in a thread:
            # a long chat with images must not stall the page for everyone.
            turns = [dataclasses.replace(turn, events=list(turn.events)) for turn in session.turns]
            content, filename, media_type = await asyncio.to_thread(export_bytes, ext, header, turns)
            ui.download.content(content, filename, media_type)
            ui.notify(f"Exported {filename}", type="positive")
        except Exception:
            log.exception("exporting the conversation as %s failed", ext)
            ui.notify("The export failed; please try again.", type="negative")

    menus: list[ui.menu] = []

    def open_menu() -> None:
        """Built on first use: elements are most of what an open tab costs the server."""
        if not menus:
            with button, ui.menu().props("no-parent-event") as menu:
                for ext, label in CHOICES:
                    ui.menu_item(label, on_click=lambda ext=ext: download(ext)).mark(f"export-{ext}")
            menus.append(menu)
        menus[0].open()

    button = testid(ui.button(icon="download", on_click=open_menu).props("flat round dense"), "export-button")
    hint(button, "Export this conversation")
    return button
