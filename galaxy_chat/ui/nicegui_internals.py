"""The few NiceGUI internals the page relies on, each wrapped once here (tests/page/test_nicegui_internals.py fails
loudly when an upgrade of NiceGUI changes one). The page's script has its own list (`niceGUI` in page.js).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from nicegui import helpers, ui
from starlette.requests import Request


def cache_handler_signatures() -> None:
    """NiceGUI asks `inspect.signature` of every element's change handlers when it builds the element (three per
    element, a third of the time a page with a long chat takes to build). A bound method's answer is its
    function's, the same for every element: it is kept once per function. Anything else is asked as before."""
    original = helpers.expects_arguments
    if getattr(original, "gc_cached", False):
        return
    known: dict[Callable[..., Any], bool] = {}

    def expects_arguments(func: Callable[..., Any]) -> bool:
        function = getattr(func, "__func__", None)
        if function is None:  # a plain function, a lambda, a partial: possibly made anew each time, not kept
            return original(func)
        if function not in known:
            known[function] = original(func)
        return known[function]

    expects_arguments.gc_cached = True  # type: ignore[attr-defined]
    helpers.expects_arguments = expects_arguments


def page_prefix(request: Request) -> str:
    """The path prefix NiceGUI puts in front of its own URLs in a page (a proxy's X-Forwarded-Prefix, made
    safe to reflect, and the ASGI root path), as NiceGUI computes it."""
    return quote(request.headers.get("X-Forwarded-Prefix", ""), safe="/:@!$&'()*+,;=%") + request.scope.get(
        "root_path", "")


def update_is_queued(element: ui.element) -> bool:
    """Whether a snapshot of `element` is already waiting in its client's outbox (it goes with the next send)."""
    return element.id in element.client.outbox.updates


def send_to_page(element: ui.element, message_type: str, data: dict[str, Any]) -> None:
    """A message of our own to `element`'s browser tab, in order with NiceGUI's updates and counted by it (so a
    reconnect replays it)."""
    element.client.outbox.enqueue_message(message_type, data, element.client.id)


class SelectWithDisabled(ui.select):
    """A select whose options listed in `disabled` cannot be chosen (Quasar's `disable` on the option):
    NiceGUI builds the options' props in `_update_options`, which is extended here."""

    def __init__(self, options: dict[str, str], disabled: set[str], **kwargs: Any) -> None:
        self._disabled = disabled
        super().__init__(options, **kwargs)

    def _update_options(self) -> None:
        super()._update_options()
        for option in self._props["options"]:
            if self._values[option["value"]] in self._disabled:
                option["disable"] = True


def emit_from_browser(element: ui.element, event: str) -> str:
    """JavaScript that makes `element` emit `event` to the server (for a handler NiceGUI does not wire, like a
    Quasar notification's action)."""
    return f"() => getElement({element.id}).$emit({event!r})"
