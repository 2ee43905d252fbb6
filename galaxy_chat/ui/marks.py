"""Names and hints on elements: stable test markers, and tooltips that cost no element."""

from __future__ import annotations

from typing import TypeVar

from nicegui import ui

E = TypeVar("E", bound=ui.element)


def testid(element: E, name: str) -> E:
    """The same stable name for the simulated user (`.mark`) and for browsers (`data-testid`)."""
    element.mark(name)
    element.props["data-testid"] = name
    return element


def hint(element: E, text: str) -> E:
    """A native tooltip and an accessible name: a Quasar tooltip is an element of its own on every page,
    and elements are most of what an open tab costs the server."""
    element.props["title"] = text
    element.props["aria-label"] = text
    return element
