"""The drawer: which tools and data sources this chat may use, locked once the first message is sent."""

from __future__ import annotations

from nicegui import ui

from galaxy_chat.ui.marks import testid


def first_sentence(text: str) -> str:
    head = text.strip().split(". ")[0].splitlines()[0] if text.strip() else ""
    return head if head.endswith(".") else head + "."


LOCK_TEXT = "Locked for this chat: start a New chat to change tools or data sources."


class SessionDrawer:
    def __init__(self, tools: dict[str, str], sources: dict[str, str]) -> None:
        """`tools` and `sources` map each name this user may use to its description."""
        self.tools = tools
        self.sources = sources
        with ui.left_drawer(value=False, bordered=True).props("width=300 breakpoint=1023 show-if-above").classes(
            "bg-grey-10 q-pa-md gap-3"
        ) as self.drawer:
            ui.label("This chat").classes("text-subtitle1 font-medium")
            self.lock_note = ui.label(LOCK_TEXT).classes("gc-locked text-caption text-grey-5").mark("lock-note")
            self.lock_note.set_visibility(False)
            self.tool_select = testid(
                ui.select(sorted(tools), multiple=True, value=sorted(tools), label="Tools")
                .props("use-chips outlined dense options-dense").classes("w-full"),
                "tools-select",
            )
            # One label per list, not one per line: elements are most of what an open tab costs the server.
            ui.label("\n".join(f"{name}: {first_sentence(text)}" for name, text in sorted(tools.items()))).classes(
                "text-caption text-grey-5 whitespace-pre-line")
            self.source_select = testid(
                ui.select(sorted(sources), multiple=True, value=[], label="Data sources")
                .props("use-chips outlined dense options-dense").classes("w-full"),
                "data-select",
            )
            if not sources:  # said by the field itself (a hint is a prop, not an element)
                self.source_select.props["hint"] = "No data sources are available to you."
                self.source_select.disable()
            if sources:
                ui.label("\n".join(f"{name}: {text}" for name, text in sorted(sources.items()))).classes(
                    "text-caption text-grey-5 whitespace-pre-line")

    @property
    def selected_tools(self) -> list[str]:
        return list(self.tool_select.value or [])

    @property
    def selected_sources(self) -> list[str]:
        return list(self.source_select.value or [])

    def lock(self, locked: bool) -> None:
        self.lock_note.set_visibility(locked)
        self.tool_select.set_enabled(not locked)
        self.source_select.set_enabled(not locked and bool(self.sources))

    def show(self, tools: list[str], sources: list[str], locked: bool) -> None:
        self.tool_select.set_value(sorted(name for name in tools if name in self.tools))
        self.source_select.set_value(sorted(name for name in sources if name in self.sources))
        self.lock(locked)
