"""The writes the HistoryWriter queues, each one store call that may be repeated safely after a failure
(ids are chosen before writing and parts carry their sequence numbers, so a retry never doubles a row)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from galaxy_chat.store.errors import DatabaseUnavailable, DatabaseUnreadable
from galaxy_chat.store.types import TEXT, HistoryStore

# Worth retrying: the database is away or busy. Anything else (a missing conversation, bad data) is dropped.
TRANSIENT = (OperationalError, InterfaceError, OSError, asyncio.TimeoutError, DatabaseUnavailable,
             DatabaseUnreadable)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


@dataclass
class CreateConversation:
    owner: str
    conversation_id: str
    title: str
    models: Sequence[str]
    tools: Sequence[str]
    data_sources: Sequence[str]

    def size(self) -> int:
        return 1

    async def run(self, store: HistoryStore) -> None:
        await store.create_conversation(self.owner, conversation_id=self.conversation_id, title=self.title,
                                        models=self.models, tools=self.tools, data_sources=self.data_sources)


@dataclass
class AppendMessage:
    owner: str
    conversation_id: str
    role: str
    model: str
    text: str | None
    message_id: str
    after: str | None
    replaces: str | None
    lease_s: float | None

    def size(self) -> int:
        return 1

    async def run(self, store: HistoryStore) -> None:
        await store.append_message(self.owner, self.conversation_id, self.role, model=self.model, text=self.text,
                                   message_id=self.message_id, after=self.after, replaces=self.replaces,
                                   lease_s=self.lease_s)


@dataclass
class AppendParts:
    owner: str
    message_id: str
    first_seq: int
    lease_s: float
    parts: list[dict[str, Any]] = field(default_factory=list)  # empty: only renew the lease
    end: int = -1  # the next sequence number after these parts (merged text leaves gaps; order is kept)
    attempted: bool = False  # tried once: may be in the database already, so never change it

    def __post_init__(self) -> None:
        if self.end < 0:
            self.end = self.first_seq + len(self.parts)

    def size(self) -> int:
        return max(len(self.parts), 1)

    def absorb(self, other: AppendParts) -> bool:
        """Take `other`'s parts when it directly follows (one transaction instead of two)."""
        if self.attempted or other.message_id != self.message_id or other.first_seq != self.end:
            return False
        self.end = other.end
        self.lease_s = max(self.lease_s, other.lease_s)
        for part in other.parts:
            last = self.parts[-1] if self.parts else None
            if last is not None and last.get("type") == TEXT == part.get("type") and set(last) == set(part):
                self.parts[-1] = {**last, "text": last["text"] + part["text"]}
            else:
                self.parts.append(part)
        return True

    async def run(self, store: HistoryStore) -> None:
        self.attempted = True
        await store.append_parts(self.owner, self.message_id, self.parts, first_seq=self.first_seq,
                                 lease_s=self.lease_s)


@dataclass
class Finish:
    owner: str
    message_id: str
    terminal: dict[str, Any]
    seq: int

    def size(self) -> int:
        return 1

    async def run(self, store: HistoryStore) -> None:
        await store.finish_message(self.owner, self.message_id, self.terminal, seq=self.seq)


@dataclass
class Mark:
    """Resolved when every write queued before it is done (flush, close)."""

    done: concurrent.futures.Future[bool]
    stop: bool = False
    deadline: float = 0.0  # with stop: when to give up on rows the database does not take (time.monotonic)

    def size(self) -> int:
        return 0

    async def run(self, _store: HistoryStore) -> None:
        if not self.done.done():
            self.done.set_result(True)


Op = CreateConversation | AppendMessage | AppendParts | Finish | Mark
