"""What the history store hands out, and the `HistoryStore` protocol both databases implement.

A conversation is a metadata row; a message is a row with its place in the conversation (`position`,
and `version` among the messages that answer the same earlier message); a message's content is its
parts, event records (JSON dicts, kept opaque) appended in order. Nothing here knows the event classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

Part = Mapping[str, Any]  # one event record, e.g. {"type": "text_delta", "text": "Hel"}
TEXT = "text_delta"  # the part type whose `text` makes up a message's text
TERMINAL = frozenset({"done", "error"})  # a part of these types ends a reply


class MessageStatus(StrEnum):
    STREAMING = "streaming"  # no terminal part yet, and a writer still holds the message's lease
    DONE = "done"
    STOPPED = "stopped"  # the person pressed Stop (done with stopped=true)
    ERROR = "error"  # the reply ended with an error part
    INTERRUPTED = "interrupted"  # no terminal part and nobody writes it any more (a crash, a kill)


@dataclass(frozen=True)
class ConversationMeta:
    id: str
    owner: str
    title: str
    models: list[str]
    tools: list[str]
    data_sources: list[str]
    created_at: datetime
    updated_at: datetime
    pinned: bool
    deleted_at: datetime | None
    preview: str = ""


@dataclass(frozen=True)
class StoredMessage:
    id: str
    conversation_id: str
    parent_id: str | None  # the message this one follows (None: the first message)
    position: int  # 0 for the first message; parent's position + 1
    version: int  # 1, 2, ... among the messages with the same parent
    versions: tuple[str, ...]  # ids of every version at this place, oldest first: shown as "< i/n >"
    role: str
    model: str
    created_at: datetime
    status: MessageStatus
    parts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return message_text(self.parts)


@dataclass(frozen=True)
class ConversationView:
    """A conversation to render: its metadata and the messages of the chosen thread, first to last."""

    meta: ConversationMeta
    messages: list[StoredMessage]


@dataclass(frozen=True)
class ListItem:
    id: str
    title: str
    updated_at: datetime
    pinned: bool
    preview: str


@dataclass(frozen=True)
class ListPage:
    items: list[ListItem]
    next_cursor: str | None  # pass to list_conversations for the next page; None: this was the last


Snippet = list[tuple[str, bool]]  # (text, highlighted) pieces: escape each, wrap the highlighted in <mark>


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    message_id: str | None  # None when the title matched best
    title: str
    updated_at: datetime
    snippet: Snippet
    rank: float  # higher is better


@dataclass(frozen=True)
class FileRecord:
    """A file uploaded to a chat, as the store keeps it (its bytes are on disk, see galaxy_chat/files)."""

    id: str
    owner: str
    conversation_id: str
    name: str  # the display name, already sanitised; never used as a path
    kind: str  # table, document, image, text or other
    mime: str  # decided from the content
    size: int
    sha256: str
    created_at: datetime
    message_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. rows, columns, pages, table name


@dataclass(frozen=True)
class ImportReport:
    imported: list[str]  # conversation ids created
    skipped: list[str]  # already in the store, or not a chat (no user, no message)
    failed: dict[str, str]  # file name -> why


def message_text(parts: Iterable[Part]) -> str:
    return "".join(p["text"] for p in parts if p.get("type") == TEXT and isinstance(p.get("text"), str))


class HistoryStore(Protocol):
    """Conversations, scoped by owner: whatever is not the caller's behaves exactly like what does not exist
    (reads give None or nothing, changes return False, appends raise NotFound)."""

    async def create_conversation(
        self, owner: str, *, conversation_id: str | None = None, title: str = "", models: Sequence[str] = (),
        tools: Sequence[str] = (), data_sources: Sequence[str] = (), now: datetime | None = None,
    ) -> str: ...

    async def append_message(
        self, owner: str, conversation_id: str, role: str, *, model: str = "", text: str | None = None,
        message_id: str | None = None, after: str | None = None, replaces: str | None = None,
        lease_s: float | None = None, now: datetime | None = None,
    ) -> str: ...

    async def append_parts(
        self, owner: str, message_id: str, parts: Sequence[Part], *, first_seq: int | None = None,
        lease_s: float | None = None, now: datetime | None = None,
    ) -> None: ...

    async def finish_message(
        self, owner: str, message_id: str, terminal: Part, *, seq: int | None = None, now: datetime | None = None,
    ) -> None: ...

    async def set_title(self, owner: str, conversation_id: str, title: str) -> bool: ...

    async def set_pinned(self, owner: str, conversation_id: str, pinned: bool) -> bool: ...

    async def delete_conversation(self, owner: str, conversation_id: str, *, now: datetime | None = None) -> bool: ...

    async def restore_conversation(self, owner: str, conversation_id: str) -> bool: ...

    async def delete_all(self, owner: str) -> int: ...

    async def get_conversation(self, owner: str, conversation_id: str) -> ConversationMeta | None: ...

    async def load_conversation(
        self, owner: str, conversation_id: str, *, chosen: Iterable[str] = (), now: datetime | None = None,
    ) -> ConversationView | None: ...

    async def load_message(self, owner: str, message_id: str, *, now: datetime | None = None) -> StoredMessage | None:
        ...

    async def list_conversations(self, owner: str, *, limit: int = 30, cursor: str | None = None) -> ListPage: ...

    async def search(self, owner: str, query: str, *, limit: int = 20) -> list[SearchHit]: ...

    async def purge(self, retention_days: int | None, now: datetime | None = None) -> int: ...

    async def import_session_logs(self, log_dir: Path) -> ImportReport: ...

    async def add_file(self, record: FileRecord) -> None: ...

    async def list_files(self, owner: str, conversation_id: str) -> list[FileRecord]: ...

    async def get_file(self, owner: str, file_id: str) -> FileRecord | None: ...

    async def attach_files(self, owner: str, file_ids: Sequence[str], message_id: str) -> int: ...

    async def delete_file(self, owner: str, file_id: str) -> bool: ...

    async def delete_files(self, owner: str, conversation_id: str) -> int: ...

    async def file_usage(self, owner: str) -> int: ...

    async def conversations_with_files(self) -> set[str]: ...

    async def usage(self, since: datetime, until: datetime) -> Any: ...  # a store.usage.UsageReport

    async def close(self) -> None: ...
