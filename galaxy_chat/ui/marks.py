"""Names and hints on elements: stable test markers, and tooltips that cost no element."""

from __future__ import annotations

from nicegui import ui


def testid(element: ui.element, name: str) -> ui.element:
    """The same stable name for the simulated user (`.mark`) and for browsers (`data-testid`)."""
    element.mark(name)
    element.props["data-testid"] = name
    return element


def hint(element: ui.element, text: str) -> ui.element:
    """A native tooltip and an accessible name: a Quasar tooltip is an element of its own on every page,
    and elements are most of what an open tab costs the server."""
    element.props["title"] = text
    element.props["aria-label"] = text
    return element
