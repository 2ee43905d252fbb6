"""A small round button showing a Material icon, as a native <button> rather than Quasar's q-btn.

Every update of a NiceGUI page re-renders all of its elements in the browser, and a Quasar component
costs far more there than a native tag. Each finished reply carries three of these (copy, thumbs up and
down), so they are kept native: the page stays quick to update however long the conversation gets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from galaxy_chat.ui.marks import hint


class IconButton(ui.element):
    def __init__(self, icon: str, label: str, on_click: Callable[[], Awaitable[None] | None]) -> None:
        super().__init__("button")
        self._props["type"] = "button"
        self.classes("gc-icon-btn")
        self.icon = icon
        hint(self, label)
        self.on("click", lambda _: on_click())

    @property
    def icon(self) -> str:
        return self._text or ""

    @icon.setter
    def icon(self, name: str) -> None:
        self._text = name  # the icon font draws the ligature of its name
        self.update()

    def show_chosen(self, chosen: str | None) -> None:
        """Colour the icon as chosen: "positive" or "negative"; None for the plain grey."""
        self.classes(remove="gc-positive gc-negative")
        if chosen:
            self.classes(f"gc-{chosen}")
