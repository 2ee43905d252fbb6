"""Finding tools (modules in `tools/` and the `galaxy_chat.tools` entry-point group) and running their calls.

Every call goes through `BoundTools.run`: permission check, JSON and schema validation, the timeout, and
turning any failure into an error result the model can read. Nothing here raises at a caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import json
import logging
import pkgutil
import time
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Protocol

import tools as tools_package
from galaxy_chat.observability import metrics, tracing
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec
from tools.base import ArgumentsError, CallIO, Tool, ToolContext, ToolResult

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "galaxy_chat.tools"


class ToolConfigError(Exception):
    """Tools cannot be loaded (e.g. two share a name); the message is one line."""


def _concrete_tools(module: object) -> list[type[Tool]]:
    return [
        value for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, Tool) and not inspect.isabstract(value)
        and value.__module__ == getattr(module, "__name__", None)
    ]


def discover_tool_classes(package: ModuleType = tools_package, group: str = ENTRY_POINT_GROUP) -> list[type[Tool]]:
    """Every concrete Tool subclass defined in the modules directly under `package` (`tools/`), then those
    named by entry points. Subpackages (a tool's own machinery, like `tools/sandbox/`) are not searched, and
    the SDK's modules (base, tool_registry) define no concrete tool."""
    found: list[type[Tool]] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        found += _concrete_tools(importlib.import_module(f"{package.__name__}.{info.name}"))
    for point in entry_points(group=group):
        loaded = point.load()
        if not (inspect.isclass(loaded) and issubclass(loaded, Tool)):
            raise ToolConfigError(f"entry point {point.name!r} in {group} is not a Tool subclass")
        found.append(loaded)
    return found


class ToolSource(Protocol):
    """Tools that come and go while the app runs (an MCP server's): asked for them at each binding."""

    def current_tools(self) -> dict[str, Tool]: ...


class ToolRegistry:
    """The tools of this server: the built-in ones, instantiated once with the settings, then those of the
    sources added at start (MCP servers), as they are when a chat binds its tools."""

    def __init__(self, tool_classes: Iterable[type[Tool]], settings: Settings) -> None:
        self.settings = settings
        self.sources: list[ToolSource] = []
        self.tools: dict[str, Tool] = {}
        origins: dict[str, str] = {}
        for cls in tool_classes:
            origin = f"{cls.__module__}.{cls.__qualname__}"
            if cls.name in self.tools:
                if origins[cls.name] == origin:
                    continue
                raise ToolConfigError(f"two tools are named {cls.name!r}: {origins[cls.name]} and {origin}")
            self.tools[cls.name] = cls(settings)
            origins[cls.name] = origin

    @classmethod
    def discover(cls, settings: Settings) -> ToolRegistry:
        return cls(discover_tool_classes(), settings)

    def add_source(self, source: ToolSource) -> None:
        self.sources.append(source)

    def get(self, name: str) -> Tool | None:
        tool = self.tools.get(name)
        if tool is None:
            for source in self.sources:
                if (tool := source.current_tools().get(name)) is not None:
                    break
        return tool

    def all_tools(self) -> dict[str, Tool]:
        found: dict[str, Tool] = {}
        for source in self.sources:
            found.update(source.current_tools())
        return found | self.tools  # a built-in name wins (MCP names carry their server's prefix anyway)

    def names(self) -> list[str]:
        return sorted(self.all_tools())

    def warnings(self) -> dict[str, str]:
        return {name: warning for name, tool in self.tools.items() if (warning := tool.startup_warning())}

    def bind(self, context: ToolContext, selected: Iterable[str] | None = None) -> BoundTools:
        """The tools one session may use: the policy's grant, narrowed to the person's selection."""
        permitted = set(context.policy.tools_for(context.user, self.names()))
        chosen = permitted if selected is None else permitted & set(selected)
        return BoundTools(self, context, [name for name in self.names() if name in chosen],
                          [name for name in self.names() if name in permitted])


class BoundTools:
    """A ToolRunner for one session: only its permitted tools, with its context."""

    def __init__(self, registry: ToolRegistry, context: ToolContext, names: list[str],
                 permitted: list[str] | None = None) -> None:
        self.registry = registry
        self.context = context
        self.allowed = names
        self.permitted = names if permitted is None else permitted  # the policy's grant, before the selection

    def tool(self, name: str) -> Tool | None:
        return self.registry.get(name)

    def tools(self) -> list[Tool]:
        """The bound tools that are there now (an MCP server may have gone away since the binding)."""
        return [tool for name in self.allowed if (tool := self.registry.get(name)) is not None]

    def specs(self) -> list[ToolSpec]:
        return [tool.spec() for tool in self.tools()]

    def commands(self) -> dict[str, Tool]:
        return {tool.command: tool for tool in self.tools() if tool.command}

    def withheld_commands(self) -> dict[str, tuple[str, str]]:
        """Command words of this server's tools that the bound session cannot run -> (tool name, reason): the
        reason is "not_permitted" (the policy) or "not_selected" (not chosen for this chat)."""
        return {
            tool.command: (name, "not_selected" if name in self.permitted else "not_permitted")
            for name, tool in self.registry.all_tools().items() if tool.command and name not in self.allowed
        }

    async def run(self, call: ToolCall, io: CallIO | None = None) -> ToolResult:
        began = time.monotonic()
        with tracing.span("tool.call", **{"galaxy_chat.tool": call.name}):
            result = await self._run(call, io)
        metrics.record_tool(call.name, time.monotonic() - began, result.is_error)
        return result

    async def _run(self, call: ToolCall, io: CallIO | None) -> ToolResult:
        tool = self.tool(call.name)
        if tool is None or call.name not in self.allowed or not self.context.policy.can_use(
            self.context.user, "tool", call.name
        ):
            log.warning("refused tool %r for %s (not permitted or unknown)", call.name, self.context.user.email)
            return ToolResult.error(f"The tool {call.name!r} is not available to you.")
        try:
            raw = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            return ToolResult.error(f"The arguments for {call.name} are not valid JSON ({exc.msg} at column "
                                    f"{exc.colno}). Send a JSON object matching the tool's schema.")
        if not isinstance(raw, dict):
            return ToolResult.error(f"The arguments for {call.name} must be a JSON object, not {type(raw).__name__}.")
        try:
            args = tool.parse_arguments(raw)
        except ArgumentsError as exc:
            return ToolResult.error(f"Invalid arguments for {call.name}: {exc}.")
        context = self.context if io is None else dataclasses.replace(self.context, io=io)
        return await self._run_validated(tool, args, context)

    async def _run_validated(self, tool: Tool, args: object, context: ToolContext) -> ToolResult:
        timeout = tool.effective_timeout()
        began = time.monotonic()
        try:
            result = await asyncio.wait_for(tool.run(args, context), timeout)
        except TimeoutError:
            metrics.TOOL_TIMEOUTS.labels(*metrics.tool_labels(tool.name)).inc()
            return ToolResult.error(f"The tool {tool.name} timed out after {timeout:g} s and was stopped.")
        except Exception as exc:
            detail = traceback.format_exc()
            log.error("tool %s raised after %.2f s", tool.name, time.monotonic() - began, exc_info=True)
            return ToolResult.error(f"The tool {tool.name} failed with an internal error ({type(exc).__name__}).",
                                    detail=detail)
        if not isinstance(result, ToolResult):
            return ToolResult.error(f"The tool {tool.name} returned no result.",
                                    detail=f"run() returned {type(result).__name__}")
        return result
