"""The writes the HistoryWriter queues. Each may be repeated safely after a failure (ids are chosen before
writing and parts carry their sequence numbers, so a retry never doubles a row).

A flush writes everything queued in one transaction (`write_batch`): the parts of all replies streaming go in
three statements together, so a flush costs about the same with one reply streaming as with two hundred. If
the database refuses one write (a chat deleted meanwhile), the batch is rolled back and written one write per
transaction (`write_one`), dropping the refused one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from galaxy_chat.store import messages as msg
from galaxy_chat.store.errors import DatabaseUnavailable, DatabaseUnreadable
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.store.types import TEXT

# Worth retrying: the database is away or busy. Anything else (a missing conversation, bad data) is dropped.
TRANSIENT = (OperationalError, InterfaceError, OSError, asyncio.TimeoutError, DatabaseUnavailable,
             DatabaseUnreadable)


# PostgreSQL's SQLSTATEs that mean "not now" rather than "never": connection exceptions (08), insufficient
# resources (53), operator intervention (57: shutting down, "the database system is starting up"), and
# serialization failures and deadlocks (40001, 40P01). Such a write is kept and retried, never dropped.
RETRY_SQLSTATE_CLASSES = ("08", "53", "57")
RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    return isinstance(state, str) and (state[:2] in RETRY_SQLSTATE_CLASSES or state in RETRY_SQLSTATES)


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

    async def apply(self, conn: AsyncConnection, now: datetime) -> None:
        await msg.create_conversation(conn, self.owner, self.conversation_id, title=self.title, models=self.models,
                                      tools=self.tools, data_sources=self.data_sources, now=now)


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

    async def apply(self, conn: AsyncConnection, now: datetime) -> None:
        await msg.append_message(conn, self.owner, self.conversation_id, self.role, model=self.model, text=self.text,
                                 message_id=self.message_id, after=self.after, replaces=self.replaces,
                                 lease_s=self.lease_s, now=now)


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

    def batched(self) -> msg.PartsAppend:
        self.attempted = True
        return msg.PartsAppend(self.owner, self.message_id, self.parts, self.first_seq, self.lease_s)

    async def apply(self, conn: AsyncConnection, now: datetime) -> None:
        self.attempted = True
        await msg.append_parts(conn, self.owner, self.message_id, self.parts, first_seq=self.first_seq,
                               lease_s=self.lease_s, now=now)


@dataclass
class Finish:
    owner: str
    message_id: str
    terminal: dict[str, Any]
    seq: int

    def size(self) -> int:
        return 1

    async def apply(self, conn: AsyncConnection, now: datetime) -> None:
        await msg.finish_message(conn, self.owner, self.message_id, self.terminal, seq=self.seq, now=now)


@dataclass
class Mark:
    """Resolved when every write queued before it is done (flush, close)."""

    done: concurrent.futures.Future[bool]
    stop: bool = False
    deadline: float = 0.0  # with stop: when to give up on rows the database does not take (time.monotonic)

    def size(self) -> int:
        return 0

    async def apply(self, _conn: AsyncConnection, _now: datetime) -> None:
        return  # resolved by the writer once what came before it is written and counted off (Mark.resolve)

    def resolve(self) -> None:
        if not self.done.done():
            self.done.set_result(True)


Op = CreateConversation | AppendMessage | AppendParts | Finish | Mark


async def write_batch(store: SqlHistoryStore, ops: Sequence[Op]) -> None:
    """All of `ops`, in order, in one transaction; runs of AppendParts (with a lease) as one append_many."""
    now, run = datetime.now(UTC), []  # type: list[msg.PartsAppend]
    async with store.write() as conn:
        for op in ops:
            if isinstance(op, AppendParts) and op.lease_s:
                run.append(op.batched())
                continue
            if run:
                await msg.append_many(conn, run, now=now)
                run = []
            await op.apply(conn, now)
        await msg.append_many(conn, run, now=now)


async def write_one(store: SqlHistoryStore, op: Op) -> None:
    async with store.write() as conn:
        await op.apply(conn, datetime.now(UTC))
