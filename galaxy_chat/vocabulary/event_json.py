"""Events as JSON and back: the one codec of the session log, the JSON export and the history store.

A record is the event's fields plus `type`, the class name in snake case (`ToolCallFinished` ->
`tool_call_finished`). The names are derived from the `Event` union, so a new or renamed event is encoded
and decoded alike everywhere, and a test round-trips every member of the union.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from galaxy_chat.vocabulary.events import Done, Event, Sources, ToolCallFinished, Usage
from galaxy_chat.vocabulary.passages import Passage
from galaxy_chat.vocabulary.widgets import BUILTIN_WIDGETS, Markdown, Widget

log = logging.getLogger(__name__)


def type_name(cls: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


EVENT_TYPES: dict[str, type[Any]] = {type_name(cls): cls for cls in get_args(Event)}
TYPE_NAMES: dict[type[Any], str] = {cls: name for name, cls in EVENT_TYPES.items()}
WIDGET_KINDS: dict[str, type[Widget]] = {cls.model_fields["kind"].default: cls for cls in BUILTIN_WIDGETS}


def widget_record(widget: Any) -> Any:
    """A widget as JSON (bytes as base64); `repr` when it cannot be, so a record is never lost for it."""
    if isinstance(widget, BaseModel):
        try:
            return widget.model_dump(mode="json")
        except Exception:  # a custom widget holding something JSON cannot express
            log.warning("a %s widget could not be written as JSON", type(widget).__name__, exc_info=True)
    return repr(widget)


def load_widget(data: Any) -> Widget:
    """A widget from its record; an unknown or broken one becomes a Markdown note, never an exception."""
    kind = data.get("kind") if isinstance(data, dict) else None
    cls = WIDGET_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is not None:
        try:
            return cls.model_validate_json(json.dumps(data))  # JSON mode: bytes come back from base64
        except ValidationError:
            log.warning("a %s widget could not be read back", kind, exc_info=True)
    return Markdown(text=f"(a {kind or 'unknown'} widget that cannot be shown here)")


def encode(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready record."""
    record: dict[str, Any] = {"type": TYPE_NAMES[type(event)]}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if item.name == "widgets":
            value = [widget_record(widget) for widget in value]
        elif item.name == "passages":
            value = [passage.model_dump(mode="json") for passage in value]
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        record[item.name] = value
    return record


def decode(record: dict[str, Any]) -> Event | None:
    """The event of a record; None for a type this version does not know (a newer version's event)."""
    cls = EVENT_TYPES.get(record.get("type", ""))
    if cls is None:
        return None
    names = {item.name for item in dataclasses.fields(cls)}
    fields = {key: value for key, value in record.items() if key in names}
    if cls is Done:
        fields["usage"] = Usage(**(fields.get("usage") or {}))
    elif cls is ToolCallFinished:
        fields["widgets"] = [load_widget(widget) for widget in fields.get("widgets", [])]
    elif cls is Sources:
        fields["passages"] = [Passage.model_validate(passage) for passage in fields.get("passages", [])]
    return cls(**fields)  # type: ignore[no-any-return]
