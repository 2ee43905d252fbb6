"""Tool calling as the app means it (OpenAI's format): a tool offered to the model, and a call it made."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for. `arguments` is the raw JSON text the model produced (it may be invalid)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: `parameters` is a JSON schema (OpenAI's `parameters`)."""

    name: str
    description: str
    parameters: dict[str, Any]


def pretty_arguments(arguments: str) -> str:
    """A call's JSON arguments indented for people; the model's raw text as it came when it is not valid JSON."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return arguments
