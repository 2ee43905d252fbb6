"""One renderer per widget kind: tool output (data) → NiceGUI elements, inside the current container."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from galaxy_chat.ui.markdown_render import render_markdown
from galaxy_chat.vocabulary.widgets import (
    Buttons,
    CallTool,
    CustomWidget,
    File,
    Image,
    Markdown,
    Plot,
    SendPrompt,
    Table,
    Widget,
)

log = logging.getLogger(__name__)

ButtonHandler = Callable[[SendPrompt | CallTool], Awaitable[None]]


def render_widget(widget: Widget, on_button: ButtonHandler | None = None) -> None:
    """Render one widget; a broken widget shows a short note instead of breaking the reply."""
    try:
        if isinstance(widget, CustomWidget):
            with ui.column().classes("w-full").mark("widget-custom"):
                widget.render()
            return
        renderer = RENDERERS.get(type(widget))
        if renderer is None:
            ui.label(f"(a {widget.kind} widget that this page cannot show)").classes("text-grey-6 text-caption")
            return
        renderer(widget, on_button)
    except Exception:
        log.exception("rendering a %s widget failed", widget.kind)
        ui.label(f"(the {widget.kind} widget could not be shown)").classes("text-negative text-caption")


def _markdown(widget: Markdown, _: ButtonHandler | None) -> None:
    ui.html(render_markdown(widget.text), sanitize=False).classes("gc-md w-full").mark("widget-markdown")


def _table(widget: Table, _: ButtonHandler | None) -> None:
    columns = [
        {"name": f"c{i}", "label": name, "field": f"c{i}", "sortable": True, "align": "left"}
        for i, name in enumerate(widget.columns)
    ]
    rows = [{f"c{i}": value for i, value in enumerate(row)} | {"_id": n} for n, row in enumerate(widget.rows)]
    ui.table(columns=columns, rows=rows, row_key="_id", pagination={"rowsPerPage": 10}).props(
        "dense flat bordered"
    ).classes("w-full").mark("widget-table")
    if widget.note:
        ui.label(widget.note).classes("text-caption text-grey-5")


def _plot(widget: Plot, _: ButtonHandler | None) -> None:
    figure: dict[str, Any] = {"data": widget.figure.get("data", []), "layout": dict(widget.figure.get("layout", {}))}
    figure["layout"].setdefault("template", "plotly_dark")
    figure["layout"].update(paper_bgcolor="rgba(0,0,0,0)", autosize=True)
    ui.plotly(figure).classes("w-full h-80").mark("widget-plot")


def _image(widget: Image, _: ButtonHandler | None) -> None:
    source = f"data:{widget.mime};base64," + base64.b64encode(widget.data).decode()
    image = ui.image(source).props("fit=contain").classes("w-full max-w-2xl").mark("widget-image")
    image.props["alt"] = widget.alt  # set as a value, never parsed from a props string


def _file(widget: File, _: ButtonHandler | None) -> None:
    size = f"{len(widget.data) / 1024:.1f} KB"
    ui.button(f"{widget.name} ({size})", icon="download",
              on_click=lambda: ui.download.content(widget.data, widget.name, widget.mime)).props(
        "outline no-caps"
    ).mark("widget-file")


def _buttons(widget: Buttons, on_button: ButtonHandler | None) -> None:
    with ui.row().classes("gap-2").mark("widget-buttons") as row:
        elements: list[ui.button] = []

        def make_handler(action: SendPrompt | CallTool) -> Callable[[], Awaitable[None]]:
            async def clicked() -> None:
                for element in elements:  # one click only: the choice is made
                    element.disable()
                if on_button is not None:
                    await on_button(action)

            return clicked

        for button in widget.buttons:
            elements.append(ui.button(button.label, on_click=make_handler(button.action)).props("outline no-caps"))
    if on_button is None:
        row.set_enabled(False)


RENDERERS: dict[type[Widget], Callable[[Any, ButtonHandler | None], None]] = {
    Markdown: _markdown, Table: _table, Plot: _plot, Image: _image, File: _file, Buttons: _buttons,
}
