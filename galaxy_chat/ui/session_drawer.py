"""The drawer: which tools and data sources this chat may use, locked once the first message is sent."""

from __future__ import annotations

from nicegui import ui

from galaxy_chat.ui.marks import testid


def first_sentence(text: str) -> str:
    head = text.strip().split(". ")[0].splitlines()[0] if text.strip() else ""
    return head if head.endswith(".") else head + "."


OPEN_TEXT = "Choose what this chat may use: it is fixed once you send the first message."
LOCK_TEXT = "Locked for this chat: start a New chat to change tools or data sources."
NO_SOURCES = "No data sources are available to you."


def choices(label: str, described: dict[str, str], value: list[str]) -> ui.select:
    """A multi-select whose descriptions, one line per choice, are its hint: a prop, not an element of their
    own (elements are most of what an open tab costs the server)."""
    select = ui.select(sorted(described), multiple=True, value=value, label=label).props(
        "use-chips outlined dense options-dense hide-bottom-space").classes("w-full gc-described")
    select.props["hint"] = "\n".join(f"{name}: {text}" for name, text in sorted(described.items())) or NO_SOURCES
    return select


class SessionDrawer:
    def __init__(self, tools: dict[str, str], sources: dict[str, str], servers: list[str] | None = None) -> None:
        """`tools` and `sources` map each name this user may use to its description; `servers` are the MCP
        servers' state lines."""
        self.tools = tools
        self.sources = sources
        # Its heading ("This chat") is drawn by the page's CSS.
        with ui.right_drawer(value=False, bordered=True).props("width=300 breakpoint=1439 show-if-above").classes(
            "gc-drawer bg-grey-10 q-pa-md gap-3"
        ) as self.drawer:
            # Always there, its text changing: a note made at the first lock would re-render the whole drawer.
            self.note = ui.label(OPEN_TEXT).classes("text-caption text-grey-5").mark("lock-note")
            short = {name: first_sentence(text) for name, text in tools.items()}
            self.tool_select = testid(choices("Tools", short, sorted(tools)), "tools-select")
            self.source_select = testid(choices("Data sources", sources, []), "data-select")
            if not sources:
                self.source_select.disable()
            if servers:  # one element for all of them: elements are most of what a tab costs the server
                testid(ui.label("MCP servers:\n" + "\n".join(servers)).classes(
                    "text-caption text-grey-5 whitespace-pre-line"), "mcp-servers")

    @property
    def selected_tools(self) -> list[str]:
        return list(self.tool_select.value or [])

    @property
    def selected_sources(self) -> list[str]:
        return list(self.source_select.value or [])

    def lock(self, locked: bool) -> None:
        self.note.set_text(LOCK_TEXT if locked else OPEN_TEXT)
        self.note.classes(add="gc-locked" if locked else None, remove=None if locked else "gc-locked")
        self.tool_select.set_enabled(not locked)
        self.source_select.set_enabled(not locked and bool(self.sources))

    def show(self, tools: list[str], sources: list[str], locked: bool) -> None:
        self.tool_select.set_value(sorted(name for name in tools if name in self.tools))
        self.source_select.set_value(sorted(name for name in sources if name in self.sources))
        self.lock(locked)
