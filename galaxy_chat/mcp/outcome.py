"""`McpOutcome`: what one MCP tool call produced, for the model (text) and for the person (widgets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from galaxy_chat.vocabulary.widgets import Widget


@dataclass
class McpOutcome:
    """The result of a call. `text` is what the model reads (capped); `widgets` show the person everything."""

    text: str
    widgets: list[Widget] = field(default_factory=list)
    is_error: bool = False
    truncated: bool = False  # the model's text was cut at the server's max_result_chars
    full_chars: int = 0  # length of the text before the cut
    structured: Any = None  # the server's structured content, when there was some
    elapsed_s: float = 0.0

    @classmethod
    def error(cls, text: str, elapsed_s: float = 0.0) -> McpOutcome:
        return cls(text=text, is_error=True, full_chars=len(text), elapsed_s=elapsed_s)
