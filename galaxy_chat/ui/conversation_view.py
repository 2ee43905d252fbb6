"""The conversation on the page: a session's turns rendered from their events, the live reply followed, a turn
answered again shown in place of the one it replaced, and an earlier version shown on request (< i/n >).

Turns come in groups of TURNS_PER_GROUP: adding one re-renders its group in the browser (a NiceGUI container
is rendered again with all its children), not the whole conversation. Each turn has a container of its own,
so a new version replaces it where it was.
"""

from __future__ import annotations

from nicegui import ui

from galaxy_chat.core.turn import Turn
from galaxy_chat.ui.marks import testid
from galaxy_chat.ui.turn_view import TurnActions, TurnView
from galaxy_chat.vocabulary.events import Event

TURNS_PER_GROUP = 4
RECENT_TURNS = 10  # a long chat opens with its last turns; earlier ones come on request, a page at a time


class ConversationView:
    def __init__(self, user_email: str, actions: TurnActions) -> None:
        self.user_email = user_email
        self.actions = actions
        self.column = ui.column().classes("gc-main grow gap-3 px-2 pb-4").mark("conversation")
        self.views: dict[str, TurnView] = {}
        self.slots: dict[str, ui.column] = {}
        self.last: TurnView | None = None
        self.group: ui.column | None = None
        self.group_size = 0
        self.hidden: list[Turn] = []  # the earliest turns, not rendered yet
        self.earlier: ui.button | None = None

    def clear(self) -> None:
        self.column.clear()
        self.views.clear()
        self.slots.clear()
        self.last, self.group, self.group_size, self.hidden, self.earlier = None, None, 0, [], None

    def render(self, turns: list[Turn]) -> None:
        """The turns so far, as they were (no toasts for old errors), the last one live; of a long chat, the
        last RECENT_TURNS, with a button for the earlier ones."""
        self.hidden = turns[:-RECENT_TURNS] if len(turns) > RECENT_TURNS else []
        shown = turns[len(self.hidden):]
        if self.hidden:
            with self.column:
                self.earlier = testid(ui.button("Show earlier messages", on_click=self.show_earlier).props(
                    "flat dense no-caps").classes("self-center"), "show-earlier")
        for turn in shown:
            self._replay(self._slot(turn.id), turn, last=turn is turns[-1])

    def show_earlier(self) -> None:
        """The RECENT_TURNS turns before those shown, above them, in a group of their own."""
        page, self.hidden = self.hidden[-RECENT_TURNS:], self.hidden[:-RECENT_TURNS]
        with self.column:
            block = ui.column().classes("w-full gap-3")
        block.move(target_index=1 if self.hidden else 0)  # below the button while there are more
        for turn in page:
            with block:
                slot = self.slots[turn.id] = ui.column().classes("w-full gap-3")
            self._replay(slot, turn, last=False)
        if not self.hidden and self.earlier is not None:
            self.earlier.delete()
            self.earlier = None

    def _replay(self, slot: ui.column, turn: Turn, *, last: bool) -> None:
        view = self._view(slot, turn, live=False, last=last)
        for event in turn.events:
            view.apply(event)
        view.live = True

    def turn_started(self, turn: Turn) -> None:
        if self.last is not None:
            self.last.not_last()
        replaced = turn.earlier[-1].id if turn.earlier else None
        slot = self.slots.pop(replaced, None) if replaced else None
        if slot is not None:  # a new version of the last turn: in its place
            self.views.pop(replaced, None)  # type: ignore[arg-type]
            slot.clear()
            self.slots[turn.id] = slot
        else:
            slot = self._slot(turn.id)
        self._view(slot, turn, live=True, last=True)

    def apply(self, turn: Turn, event: Event) -> None:
        view = self.views.get(turn.id)
        if view is not None and view.turn is turn:  # not while an earlier version is shown in its place
            with self.column:  # for toasts
                view.apply(event)

    def show_version(self, newest: Turn, index: int) -> None:
        versions = newest.versions
        slot = self.slots.get(newest.id)
        if slot is None or not 0 <= index < len(versions):
            return
        slot.clear()
        shown = versions[index]
        view = self._view(slot, shown, live=False, last=self.last is not None and self.last.newest is newest
                          and shown is newest, newest=newest)
        for event in shown.events:
            view.apply(event)
        view.live = True  # (the newest version is replayed like any turn, so it shows its controls again)

    def _slot(self, turn_id: str) -> ui.column:
        if self.group is None or self.group_size >= TURNS_PER_GROUP:
            with self.column:
                self.group = ui.column().classes("w-full gap-3")
            self.group_size = 0
        self.group_size += 1
        with self.group:
            slot = self.slots[turn_id] = ui.column().classes("w-full gap-3")
        return slot

    def _view(self, slot: ui.column, turn: Turn, *, live: bool, last: bool, newest: Turn | None = None) -> TurnView:
        with slot:
            view = TurnView(turn, self.user_email, self.actions, live=live, newest=newest, last=last)
        self.views[(newest or turn).id] = view
        if last:
            self.last = view
        return view
