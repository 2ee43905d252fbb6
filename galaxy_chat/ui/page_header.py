"""The header's parts: model choice (unavailable ones disabled with their reason) and the LLM status light."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

from nicegui import background_tasks, ui

from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.llm.model_registry import ModelRegistry
from galaxy_chat.ui.marks import hint

STATUS_COLOURS = {"ok": "positive", "error": "negative", "unavailable": "grey-6", "unchecked": "warning"}


class ModelSelect(ui.select):
    """A select whose options listed in `disabled` cannot be chosen (Quasar's `disable` on the option)."""

    def __init__(self, options: dict[str, str], disabled: set[str], **kwargs: Any) -> None:
        self._disabled = disabled
        super().__init__(options, **kwargs)

    def _update_options(self) -> None:
        super()._update_options()
        for option in self._props["options"]:
            if self._values[option["value"]] in self._disabled:
                option["disable"] = True


def model_options(registry: ModelRegistry, permitted: list[str]) -> tuple[dict[str, str], set[str]]:
    options: dict[str, str] = {}
    disabled: set[str] = set()
    for config in registry.models:
        if config.name not in permitted:
            continue
        if config.available:
            options[config.name] = config.name
        else:
            options[config.name] = f"{config.name} (unavailable: {config.unavailable_reason})"
            disabled.add(config.name)
    return options, disabled


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
