"""The header's parts: the model choice's labels and the LLM status light."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable

from nicegui import background_tasks, ui

from galaxy_chat.core.model_choice import ModelChoice
from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.llm.model_registry import ModelRegistry
from galaxy_chat.ui.marks import hint

STATUS_COLOURS = {"ok": "positive", "error": "negative", "unavailable": "grey-6", "unchecked": "warning"}


def model_options(choices: list[ModelChoice]) -> tuple[dict[str, str], set[str]]:
    """The select's labels, and the names it shows but will not let anyone pick (with their reason)."""
    options = {c.name: c.name if c.available else f"{c.name} (unavailable: {c.reason})" for c in choices}
    return options, {c.name for c in choices if not c.available}


log = logging.getLogger(__name__)
REFRESH_S = 5.0
_lights: weakref.WeakSet[StatusLight] = weakref.WeakSet()


_loop: list[asyncio.Task[None]] = []


def _watch(light: StatusLight) -> None:
    """One loop refreshes every page's light (not a timer per page: each costs an element and a task)."""
    _lights.add(light)
    if not _loop or _loop[0].done():
        _loop[:] = [background_tasks.create(_refresh_all(), name="status lights")]


async def _refresh_all() -> None:
    while True:
        await asyncio.sleep(REFRESH_S)
        for light in list(_lights):
            if light.icon.is_deleted:
                _lights.discard(light)
                continue
            try:
                light.refresh()
            except Exception:  # one page's trouble must not stop the others' lights
                log.exception("status light: could not refresh")


class StatusLight:
    """A dot coloured by the chosen model's last health check, with the details in its tooltip."""

    def __init__(self, health: HealthMonitor, registry: ModelRegistry,
                 on_change: Callable[[], None] | None = None) -> None:
        self.health = health
        self.registry = registry
        self.on_change = on_change  # called when the light's state changes
        self.state = ""
        self.model = ""
        self.icon = ui.icon("circle", size="xs").classes("text-grey-6").mark("llm-status")
        _watch(self)

    def show(self, model: str) -> None:
        self.model = model
        self.refresh()

    def refresh(self) -> None:
        config = self.registry.get(self.model)
        if config is None:
            state, text = "unavailable", "No model is selected."
        else:
            status = self.health.status(config).public()
            state = str(status.get("status", "unchecked"))
            latency = status.get("latency_ms")
            detail = status.get("error") or (f"answered in {latency} ms" if latency is not None else "")
            text = f"{config.name}: {state}" + (f" — {detail}" if detail else "")
        if self.icon.props.get("title") != text:
            self.icon.classes(replace=f"text-{STATUS_COLOURS.get(state, 'grey-6')}")
            hint(self.icon, text)
        if state != self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change()
