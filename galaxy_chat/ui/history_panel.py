"""The history panel: the person's chats, newest first, in pages as they scroll; search with highlighted
snippets; open, rename, pin, delete with an Undo toast. It asks the core's History (never the store), and the
list is one element drawn in the browser (history_list.js), whatever the number of chats shown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from nicegui import ui
from nicegui.events import GenericEventArguments

from galaxy_chat.core.history import History
from galaxy_chat.ui.marks import testid
from galaxy_chat.ui.undo_toast import undo_toast

log = logging.getLogger(__name__)

OpenChat = Callable[[str], Awaitable[None]]


class HistoryList(ui.element, component="history_list.js"):
    def __init__(self) -> None:
        super().__init__()
        self._props.update(items=[], hits=[], query="", current="", more=False)


def item_json(item_id: str, title: str, updated: datetime, pinned: bool) -> dict[str, Any]:
    return {"id": item_id, "title": title, "updated": updated.astimezone(UTC).isoformat(), "pinned": pinned}


class HistoryPanel:
    def __init__(self, history: History | None, owner: str, on_open: OpenChat,
                 on_deleted: Callable[[str], Awaitable[None]]) -> None:
        self.history = history
        self.owner = owner
        self.on_open = on_open
        self.on_deleted = on_deleted
        self.cursor: str | None = None
        self.view = testid(HistoryList(), "history-panel")
        testid(ui.button("Delete all my chats", on_click=self._confirm_delete_all).props(
            "flat dense no-caps size=sm color=grey-6").classes("self-start"), "delete-all-chats")
        for name, handler in (("open", self._open), ("more", self._more), ("search", self._search),
                              ("rename", self._rename), ("pin", self._pin), ("remove", self._remove)):
            self.view.on(name, handler)

    async def load(self) -> None:
        """The first page (again): after start, a pin, a delete or an undo."""
        if self.history is None:
            return
        try:
            page = await self.history.page(self.owner)
        except Exception:
            log.exception("could not list the chats of %s", self.owner)
            return
        self.cursor = page.next_cursor
        self._set(items=[item_json(i.id, i.title, i.updated_at, i.pinned) for i in page.items],
                  more=page.next_cursor is not None)

    def _set(self, **props: Any) -> None:
        self.view._props.update(props)
        self.view.update()

    def set_current(self, conversation_id: str) -> None:
        if self.view._props["current"] != conversation_id:
            self._set(current=conversation_id)

    def started(self, conversation_id: str, title: str) -> None:
        """A chat's first message: it goes to the top (after the pinned ones) without asking the store."""
        items = [item for item in self.view._props["items"] if item["id"] != conversation_id]
        pinned = [item for item in items if item["pinned"]]
        fresh = item_json(conversation_id, title, datetime.now(UTC), False)
        self._set(items=[*pinned, fresh, *items[len(pinned):]], current=conversation_id)

    def retitled(self, conversation_id: str, title: str) -> None:
        items = [{**item, "title": title} if item["id"] == conversation_id else item
                 for item in self.view._props["items"]]
        self._set(items=items)

    def _confirm_delete_all(self) -> None:
        """A dialog, built when asked for: most people never open it, and elements cost every tab."""
        with ui.dialog() as dialog, ui.card().classes("w-96 max-w-full"):
            ui.label("Delete all your chats? This cannot be undone.").classes("text-subtitle1")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.delete).props("flat")

                async def delete_all() -> None:
                    dialog.delete()
                    if self.history is not None:
                        removed = await self.history.delete_all(self.owner)
                        await self.load()
                        await self.on_deleted("*")
                        ui.notify(f"Deleted {removed} chats.", type="info", position="top")

                testid(ui.button("Delete all", on_click=delete_all).props("color=negative"), "delete-all-confirm")
        dialog.open()

    async def _open(self, event: GenericEventArguments) -> None:
        if isinstance(event.args, str):
            await self.on_open(event.args)

    async def _more(self, _: GenericEventArguments) -> None:
        if self.history is None or self.cursor is None:
            return
        page = await self.history.page(self.owner, self.cursor)
        self.cursor = page.next_cursor
        known = {item["id"] for item in self.view._props["items"]}
        added = [item_json(i.id, i.title, i.updated_at, i.pinned) for i in page.items if i.id not in known]
        self._set(items=[*self.view._props["items"], *added], more=page.next_cursor is not None)

    async def _search(self, event: GenericEventArguments) -> None:
        query = event.args if isinstance(event.args, str) else ""
        if self.history is None or not query:
            self._set(query="", hits=[])
            return
        hits = await self.history.search(self.owner, query)
        self._set(query=query, hits=[{**item_json(h.conversation_id, h.title, h.updated_at, False),
                                      "snippet": [[text, match] for text, match in h.snippet]} for h in hits])

    async def _rename(self, event: GenericEventArguments) -> None:
        args = event.args if isinstance(event.args, dict) else {}
        chat, title = args.get("id"), args.get("title")
        if self.history is None or not isinstance(chat, str) or not isinstance(title, str):
            return
        if await self.history.rename(self.owner, chat, title):
            self.retitled(chat, " ".join(title.split()))
        else:
            ui.notify("The chat could not be renamed.", type="warning", position="top")

    async def _pin(self, event: GenericEventArguments) -> None:
        args = event.args if isinstance(event.args, dict) else {}
        chat, pinned = args.get("id"), args.get("pinned")
        if self.history is not None and isinstance(chat, str) and isinstance(pinned, bool):
            await self.history.pin(self.owner, chat, pinned)
            await self.load()

    async def _remove(self, event: GenericEventArguments) -> None:
        chat = event.args
        if self.history is None or not isinstance(chat, str) or not await self.history.delete(self.owner, chat):
            return
        history, owner = self.history, self.owner
        self._set(items=[item for item in self.view._props["items"] if item["id"] != chat],
                  hits=[hit for hit in self.view._props["hits"] if hit["id"] != chat])
        await self.on_deleted(chat)

        async def undo() -> None:
            if await history.restore(owner, chat):
                await self.load()

        undo_toast("Chat deleted.", undo)
