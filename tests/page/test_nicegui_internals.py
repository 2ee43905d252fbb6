"""The NiceGUI internals the page relies on (galaxy_chat/ui/nicegui_internals.py and `niceGUI` in page.js) are
still there: an upgrade of NiceGUI that changes one fails here, by name, not as a subtly broken page."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import nicegui
from nicegui import ui
from nicegui.outbox import Outbox

from galaxy_chat.testing.app_process import ROOT
from galaxy_chat.ui.nicegui_internals import SelectWithDisabled
from galaxy_chat.ui.streaming_markdown import StreamText

NICEGUI_JS = (Path(nicegui.__file__).parent / "static" / "nicegui.js").read_text()
PAGE_JS = (ROOT / "galaxy_chat" / "ui" / "page.js").read_text()


def test_the_outbox_queues_updates_by_element_id_and_takes_our_messages() -> None:
    assert list(inspect.signature(Outbox.enqueue_message).parameters) == ["self", "message_type", "data", "target_id"]
    assert "self.updates" in inspect.getsource(Outbox.__init__)
    assert "self.updates[element.id] = element" in inspect.getsource(Outbox.enqueue_update)


def test_the_browser_side_names_page_js_uses_exist() -> None:
    assert re.search(r"window\.socket\s*=", NICEGUI_JS), "NiceGUI no longer sets window.socket"
    assert "if (message_id < window.nextMessageId) return;" in NICEGUI_JS  # how it counts and skips replays
    assert re.search(r"function getElement\(", NICEGUI_JS), "NiceGUI no longer defines getElement"
    # page.js reaches them only through its adapter object
    outside = PAGE_JS.split("const niceGUI = {", 1)[1].split("\n};", 1)[1]
    assert "window.socket" not in outside and "nextMessageId" not in outside and "getElement(" not in outside


async def test_a_select_can_still_disable_some_options(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        @ui.page("/select")
        def page() -> None:
            SelectWithDisabled({"a": "A", "b": "B (unavailable)"}, {"b"}, value="a").mark("select")

        await user.open("/select")
        check_disabled(user)


def check_disabled(user) -> None:
    (select,) = user.find(marker="select").elements
    assert [option.get("disable", False) for option in select.props["options"]] == [False, True]
    select.set_options({"b": "B", "c": "C"}, value="c")  # options rebuilt: the rule still holds
    assert [option.get("disable", False) for option in select.props["options"]] == [True, False]


def test_the_stream_component_is_served_from_the_path_the_page_preloads() -> None:
    assert StreamText.component is not None and StreamText.component.key.endswith("stream_text.js")


def test_our_page_prefix_is_the_one_nicegui_puts_in_its_urls() -> None:
    from nicegui.client import Client

    source = inspect.getsource(Client)
    assert "request.headers.get('X-Forwarded-Prefix', '')" in source and "request.scope.get('root_path', '')" in source


def test_the_plot_element_still_resizes_as_page_js_expects() -> None:
    plotly_js = (Path(nicegui.__file__).parent / "elements" / "plotly" / "plotly.js").read_text()
    # page.js lets pass the one rejection a resize of a hidden plot gives, which nothing awaits
    assert "this.Plotly.Plots.resize(this.$el);" in plotly_js and "await this.Plotly.Plots.resize" not in plotly_js
    assert '"Resize must be passed a displayed plot div"' in PAGE_JS
    plotly_bundle = (Path(nicegui.__file__).parent / "elements" / "plotly" / "dist" / "index.js").read_text()
    assert "Resize must be passed a displayed plot div element." in plotly_bundle


def test_elements_ask_the_signature_of_their_change_handlers_through_helpers() -> None:
    source = inspect.getsource(nicegui.observables.ObservableCollection.__init__)
    assert "helpers.expects_arguments(on_change)" in source  # the call cache_handler_signatures answers once


def test_kept_signature_answers_are_the_ones_nicegui_gives() -> None:
    from nicegui import helpers

    from galaxy_chat.ui.nicegui_internals import cache_handler_signatures

    class Handlers:
        def bare(self) -> None: ...

        def takes(self, event: object) -> None: ...

        def optional(self, event: object = None, *rest: object) -> None: ...

    installed = helpers.expects_arguments  # the app may have kept answers already
    original = helpers.expects_arguments = helpers.functions.expects_arguments
    try:
        cache_handler_signatures()
        cached = helpers.expects_arguments
        assert cached is not original
        for handlers in (Handlers(), Handlers()):  # asked again: the kept answer, the same
            assert [cached(handlers.bare), cached(handlers.takes), cached(handlers.optional)] == [False, True, False]
        assert cached(lambda event: None) is True and cached(lambda: None) is False
    finally:
        helpers.expects_arguments = installed
