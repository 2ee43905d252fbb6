"""Who hears a chat session: the page that shows it (one at a time: the page shown before is told the chat
moved), other subscribers, and those told when the chat gets a better title. A listener that fails never
keeps the news from the others."""

from __future__ import annotations

import logging
from collections.abc import Callable

from galaxy_chat.core.turn import Listener, Turn
from galaxy_chat.vocabulary.events import Event

log = logging.getLogger(__name__)


class SessionListeners:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self._listeners: list[Listener] = []
        self._shown_by: tuple[Listener, Callable[[], None]] | None = None
        self._titles: list[Callable[[str], None]] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._remove(listener)

    def attach(self, listener: Listener, on_moved: Callable[[], None],
               on_title: Callable[[str], None] | None = None) -> Callable[[], None]:
        self.moved_away()
        self._shown_by = (listener, on_moved)
        self._listeners.append(listener)
        if on_title is not None:
            self._titles.append(on_title)

        def detach() -> None:
            if on_title in self._titles:
                self._titles.remove(on_title)  # type: ignore[arg-type]
            self._remove(listener)
            if self._shown_by is not None and self._shown_by[0] is listener:
                self._shown_by = None

        return detach

    def moved_away(self) -> None:
        """The chat is now shown elsewhere (another tab, maybe on another replica): the page showing it is told."""
        if self._shown_by is not None:
            previous, moved = self._shown_by
            self._remove(previous)
            self._shown_by = None
            moved()

    @property
    def shown(self) -> bool:
        return self._shown_by is not None

    def _remove(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify(self, turn: Turn, event: Event | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(turn, event)
            except Exception:  # one broken page must not stop the reply for the others
                log.exception("a listener of session %s failed", self.session_id)

    def retitled(self, title: str) -> None:
        for listener in list(self._titles):
            try:
                listener(title)
            except Exception:  # a page that went away must not stop the others
                log.exception("a title listener of session %s failed", self.session_id)
