"""Which messages make up the conversation shown, and each message's status, derived from what is stored.

Messages form a tree by `parent_id`: a regenerated reply is a second child of the same user message, an
edited message a second child of the same earlier message. The thread shown starts at the first message
and, at each step, takes the child the caller chose (directly or because it chose a later message under
it) or else the newest version.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from galaxy_chat.store.types import TEXT, MessageStatus, Part


@dataclass(frozen=True)
class MessageRow:
    id: str
    parent_id: str | None
    position: int
    version: int
    role: str
    model: str
    created_at: datetime


def new_message_id() -> str:
    """Time-ordered (so the primary key index grows at its end) and unguessable."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(5)}"


def encode_part(part: Part) -> str:
    return json.dumps(dict(part), separators=(",", ":"), ensure_ascii=False, default=repr)


def decode_part(data: str) -> dict[str, Any]:
    value = json.loads(data)
    return value if isinstance(value, dict) else {"type": "unknown", "value": value}


def children_of(rows: Iterable[MessageRow]) -> dict[str | None, list[MessageRow]]:
    children: dict[str | None, list[MessageRow]] = {}
    for row in sorted(rows, key=lambda r: (r.position, r.version)):
        children.setdefault(row.parent_id, []).append(row)
    return children


def thread(rows: Sequence[MessageRow], chosen: Iterable[str] = ()) -> list[MessageRow]:
    """The messages shown, first to last: chosen versions (and their ancestors) win, else the newest."""
    by_id = {row.id: row for row in rows}
    picked: set[str] = set()
    for message_id in chosen:
        row = by_id.get(message_id)
        while row is not None and row.id not in picked:  # choosing a message chooses its ancestors too
            picked.add(row.id)
            row = by_id.get(row.parent_id) if row.parent_id else None
    children = children_of(rows)
    shown: list[MessageRow] = []
    parent: str | None = None
    while siblings := children.get(parent):
        preferred = [row for row in siblings if row.id in picked]
        row = (preferred or siblings)[-1]
        shown.append(row)
        parent = row.id
    return shown


def tip(rows: Sequence[MessageRow]) -> MessageRow | None:
    """The last message of the current thread: where a new message goes by default."""
    shown = thread(rows)
    return shown[-1] if shown else None


def status_of(role: str, parts: Sequence[Mapping[str, Any]], being_written: bool) -> MessageStatus:
    """Derived from the parts: a `done` part ends a reply (stopped or not, after an error or not); an `error`
    part alone ends it too; with neither, it is streaming while its writer's lease holds, else interrupted."""
    if role != "assistant":
        return MessageStatus.DONE
    types = {part.get("type") for part in parts}
    done = next((part for part in reversed(parts) if part.get("type") == "done"), None)
    if done is not None:
        if done.get("stopped"):
            return MessageStatus.STOPPED
        return MessageStatus.ERROR if "error" in types else MessageStatus.DONE
    if "error" in types:
        return MessageStatus.ERROR
    return MessageStatus.STREAMING if being_written else MessageStatus.INTERRUPTED


def text_part(text: str) -> dict[str, Any]:
    return {"type": TEXT, "text": text}


def now_or(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)
