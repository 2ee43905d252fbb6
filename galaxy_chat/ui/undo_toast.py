"""A toast with an Undo button (a Quasar notification whose action tells the server): the way to take back a
deletion. The toast removes itself when dismissed or timed out, like every notification."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from galaxy_chat.ui.marks import testid
from galaxy_chat.ui.nicegui_internals import emit_from_browser

UNDO_S = 8.0  # shorter than the store's undo window, so Undo never promises what it cannot do


def undo_toast(message: str, undo: Callable[[], Awaitable[None]]) -> ui.notification:
    toast = testid(ui.notification(message, position="bottom", timeout=UNDO_S, type="info"), "undo-toast")
    used: list[bool] = []

    async def clicked() -> None:
        if not used:  # one undo per toast, however many clicks
            used.append(True)
            toast.dismiss()
            await undo()

    toast.on("undo", clicked)
    # The action runs in the browser: it asks this element to emit "undo", which reaches `clicked`.
    handler = emit_from_browser(toast, "undo")
    toast._props["options"]["actions"] = [{"label": "Undo", "color": "white", "noDismiss": True, ":handler": handler}]
    toast.update()
    return toast
