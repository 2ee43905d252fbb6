"""`Reply`: the handle of an assistant message being streamed into the history (writer.HistoryWriter)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from galaxy_chat.store.types import TEXT
from galaxy_chat.store.writer_ops import Finish

if TYPE_CHECKING:
    from galaxy_chat.store.writer import HistoryWriter

TRANSIENT_TYPES = frozenset({"status"})  # "still working" updates: not kept, they only renew the lease
OPENED, RENEW = object(), object()  # markers queued with a reply


class Reply:
    """The assistant message being streamed. Call its methods from the chat's event loop."""

    def __init__(self, writer: HistoryWriter, owner: str, message_id: str) -> None:
        self.id = message_id
        self.owner = owner
        self._items = writer._items
        self._writer = writer
        self.next_seq = 0  # touched by the writer thread only
        self.renewed = time.monotonic()

    def text(self, piece: str) -> None:
        self._items.append((self, piece))

    def part(self, record: Mapping[str, Any]) -> None:
        kind = record.get("type")
        if kind == TEXT and isinstance(record.get("text"), str):
            self.text(record["text"])
        elif kind in TRANSIENT_TYPES:
            self._writer._send((self, RENEW))
        else:
            self._writer._send((self, dict(record)))

    def finish(self, terminal: Mapping[str, Any]) -> None:
        self._writer._send((self, Finish(self.owner, self.id, dict(terminal), -1)))
