"""The files for the next message: an attach button, drop and paste anywhere on the page (attachments.js sends
each file to `POST /api/uploads/<chat>` with a progress bar), a chip per accepted file with its size or shape
("12,840 rows x 9 columns"), a preview of a table on click, and a toast for every refused file saying why.

The chips are one element drawn by the browser whatever the number of files; the files sent with a message
leave the tray for the message.
"""

from __future__ import annotations

import logging

from nicegui import ui
from nicegui.events import GenericEventArguments

from galaxy_chat.core.chat_files import attachment_of
from galaxy_chat.files import Uploads
from galaxy_chat.ui.marks import hint, testid
from galaxy_chat.ui.widget_views import render_widget
from galaxy_chat.vocabulary.attachments import Attachment

log = logging.getLogger(__name__)


class AttachmentChips(ui.element, component="attachments.js"):
    def __init__(self, url: str, max_bytes: int) -> None:
        super().__init__()
        self._props.update(files=[], url=url, maxBytes=max_bytes, disabled=False)


class AttachmentTray:
    def __init__(self, uploads: Uploads | None, owner: str, conversation_id: str, max_bytes: int) -> None:
        self.uploads = uploads
        self.owner = owner
        self.pending: list[Attachment] = []
        self.chips = testid(AttachmentChips(upload_url(conversation_id), max_bytes), "attachments")
        for name, handler in (("uploaded", self._uploaded), ("refused", self._refused),
                              ("remove", self._remove), ("preview", self._preview)):
            self.chips.on(name, handler)

    def button(self) -> ui.button:
        """The attach button, for the input row."""
        button = ui.button(icon="attach_file", on_click=lambda: self.chips.run_method("pick")).props(
            "flat round dense color=grey-5")
        if self.uploads is None:
            button.disable()
        return hint(testid(button, "attach-button"), "Attach files (or drop or paste them here)")

    def for_chat(self, conversation_id: str) -> None:
        """Another chat is shown: files not sent stay in the chat they were attached to."""
        self.pending = []
        self.chips.props["url"] = upload_url(conversation_id)
        self._draw()

    def take(self) -> list[Attachment]:
        """The files for the message being sent; the tray is empty after."""
        taken, self.pending = self.pending, []
        self._draw()
        return taken

    def give_back(self, attachments: list[Attachment]) -> None:
        """The message was refused: its files are back in the tray."""
        self.pending = [*attachments, *self.pending]
        self._draw()

    def _draw(self) -> None:
        self.chips.props["files"] = [file.model_dump(mode="json") for file in self.pending]
        self.chips.props["disabled"] = self.uploads is None
        self.chips.update()

    async def _uploaded(self, event: GenericEventArguments) -> None:
        file_id = event.args.get("id") if isinstance(event.args, dict) else None
        stored = await self.uploads.get(self.owner, file_id) if self.uploads is not None and file_id else None
        if stored is None:  # the browser's word is not enough: only the person's own files
            ui.notify("That file could not be attached.", type="warning", position="top")
            return
        self.pending.append(attachment_of(stored))
        self._draw()

    def _refused(self, event: GenericEventArguments) -> None:
        args = event.args if isinstance(event.args, dict) else {}
        name, reason = str(args.get("name", "The file"))[:120], str(args.get("reason", "was refused"))[:300]
        ui.notify(f"{name} {reason}" if not reason[:1].isupper() else f"{name}: {reason}",
                  type="warning", position="top", multi_line=True)

    async def _remove(self, event: GenericEventArguments) -> None:
        file_id = str(event.args)
        self.pending = [file for file in self.pending if file.id != file_id]
        self._draw()
        if self.uploads is not None:
            try:
                await self.uploads.delete(self.owner, file_id)
            except Exception:
                log.exception("could not remove file %s", file_id)

    async def _preview(self, event: GenericEventArguments) -> None:
        file = next((file for file in self.pending if file.id == str(event.args)), None)
        if file is not None:
            await show_preview(self.uploads, self.owner, file)


async def show_preview(uploads: Uploads | None, owner: str, file: Attachment) -> None:
    """A dialog with the file: a table's first rows, an image, or what is known of it."""
    stored = await uploads.get(owner, file.id) if uploads is not None else None
    if stored is None:
        ui.notify("That file is no longer there.", type="warning", position="top")
        return
    with ui.dialog() as dialog, ui.card().classes("gc-preview min-w-[20rem] max-w-[90vw]"):
        ui.label(file.name).classes("text-subtitle1 font-medium")
        ui.label(" · ".join(part for part in (file.summary, file.mime, size_text(file.size)) if part)).classes(
            "text-caption text-grey-5")
        if file.kind == "image":
            ui.image(file_url(file.id)).classes("max-h-[70vh] w-auto").props("fit=contain")
        elif (table := await uploads.preview(stored)) is not None:  # type: ignore[union-attr]
            render_widget(table)
        ui.button("Close", on_click=dialog.close).props("flat").classes("self-end")
    dialog.on("hide", dialog.delete)
    testid(dialog, "file-preview").open()


def attached(files: list[Attachment]) -> None:
    """The files a message came with, in its bubble: images drawn, other files as links to download them."""
    with testid(ui.element("div").classes("gc-attached"), "attached-files"):
        for file in files:
            if file.kind == "image":
                image = ui.image(file_url(file.id))
                image.props["tag"] = "img"  # a plain <img> (with NiceGUI's path prefix), not Quasar's q-img
                image.props["alt"] = file.name  # set as a value, never parsed as props text
            else:
                label = f"{file.name} · {file.summary or size_text(file.size)}"
                testid(ui.link(label, file_url(file.id), new_tab=True).classes("gc-chip px-3 py-1 no-underline"),
                       "attached-file")


def upload_url(conversation_id: str) -> str:
    return f"/api/uploads/{conversation_id}"


def file_url(file_id: str) -> str:
    return f"/api/files/{file_id}"


def size_text(size: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} B"

