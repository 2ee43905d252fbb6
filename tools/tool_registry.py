"""Finding tools (modules in `tools/` and the `galaxy_chat.tools` entry-point group) and running their calls.

Every call goes through `BoundTools.run`: permission check, JSON and schema validation, the timeout, and
turning any failure into an error result the model can read. Nothing here raises at a caller.
"""

from __future__ import annotations

import asyncio
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

from pydantic import ValidationError

import tools as tools_package
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec
from tools.base import Tool, ToolContext, ToolResult

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


class ToolRegistry:
    """The tools of this server, instantiated once with the settings."""

    def __init__(self, tool_classes: Iterable[type[Tool]], settings: Settings) -> None:
        self.settings = settings
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

    def names(self) -> list[str]:
        return sorted(self.tools)

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

    def specs(self) -> list[ToolSpec]:
        return [self.registry.tools[name].spec() for name in self.allowed]

    def commands(self) -> dict[str, Tool]:
        tools = (self.registry.tools[name] for name in self.allowed)
        return {tool.command: tool for tool in tools if tool.command}

    def withheld_commands(self) -> dict[str, tuple[str, str]]:
        """Command words of this server's tools that the bound session cannot run -> (tool name, reason): the
        reason is "not_permitted" (the policy) or "not_selected" (not chosen for this chat)."""
        return {
            tool.command: (name, "not_selected" if name in self.permitted else "not_permitted")
            for name, tool in self.registry.tools.items() if tool.command and name not in self.allowed
        }

    async def run(self, call: ToolCall) -> ToolResult:
        tool = self.registry.tools.get(call.name)
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
            args = tool.Params.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
                for error in exc.errors()
            )
            return ToolResult.error(f"Invalid arguments for {call.name}: {problems}.")
        return await self._run_validated(tool, args)

    async def _run_validated(self, tool: Tool, args: object) -> ToolResult:
        timeout = tool.effective_timeout()
        began = time.monotonic()
        try:
            result = await asyncio.wait_for(tool.run(args, self.context), timeout)
        except TimeoutError:
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
