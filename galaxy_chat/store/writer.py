"""`HistoryWriter`: how a live chat reaches the history store without its event loop ever waiting on it.

    writer = HistoryWriter(settings.database_url, settings.data_dir, on_health_change=toast)
    writer.start()                                    # from the app's event loop
    cid = writer.conversation_created(owner, session_id, tools=[...], data_sources=[...])
    writer.user_message(owner, cid, "question", model="m")
    reply = writer.reply_started(owner, cid, model="m")
    reply.text(piece)                                 # per streamed token: one deque append
    reply.part(event_record)                          # tool calls, sources, errors ... (status renews the lease)
    reply.finish(done_record)                         # the terminal part: done or error
    await writer.aclose()                             # at shutdown: writes what is queued

Every method above returns at once: it appends to a thread-safe deque. One background thread runs its own
asyncio loop with its own engine, so neither SQL work nor SQLAlchemy's CPU lands on the chat's loop. Every
FLUSH_S it gathers the streamed text into one part per reply and writes everything in order, in one
transaction for all replies (writer_ops.write_batch). When a write fails because the database is away,
the rows stay in memory (bounded by `max_pending`; past that, new rows are dropped with a log line),
`healthy` turns False and `on_health_change(False)` is called on the loop that started the writer; the
writer retries with back-off and, once a write succeeds, writes the rest by itself and reports True. A
reply being written holds a lease on its conversation that the writer renews; if the process dies, the
lease lapses and the reply reads as interrupted, with its text up to the last flush.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from galaxy_chat.observability import metrics
from galaxy_chat.store.migrate import open_store
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.store.threads import new_message_id, text_part
from galaxy_chat.store.writer_ops import (
    AppendMessage,
    AppendParts,
    CreateConversation,
    Finish,
    Mark,
    Op,
    is_transient,
    write_batch,
    write_one,
)
from galaxy_chat.store.writer_reply import OPENED, RENEW, Reply

log = logging.getLogger(__name__)

FLUSH_S = 0.5  # streamed text reaches the database within about this long (the promise is 1 s)
LEASE_S = 10.0  # a reply whose writer died reads as interrupted this long after its last write
RETRY_MAX_S = 5.0
BATCH_OPS = 1000  # writes per transaction at most (a tick of 200 replies streaming is about 200)
StoreOpener = Callable[[], Any]  # -> awaitable SqlHistoryStore, called on the writer's own loop


class HistoryWriter:
    def __init__(self, database_url: str = "", data_dir: Path = Path("data"), *, flush_s: float = FLUSH_S,
                 lease_s: float = LEASE_S, max_pending: int = 100_000, retry_max_s: float = RETRY_MAX_S,
                 on_health_change: Callable[[bool], None] | None = None, opener: StoreOpener | None = None) -> None:
        self.flush_s, self.lease_s, self.max_pending, self.retry_max_s = flush_s, lease_s, max_pending, retry_max_s
        self.on_health_change = on_health_change
        self._open = opener or (lambda: open_store(database_url, data_dir))
        self._items: deque[Any] = deque()
        self._ops: deque[Op] = deque()
        self._pending_text: dict[Reply, list[str]] = {}
        self._open_replies: dict[str, Reply] = {}
        self._healthy = True
        self._dropped = 0
        self._queued = 0
        self._caller_loop: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def pending(self) -> int:
        """Rows waiting to be written (roughly: what a lost process would lose)."""
        return self._queued + len(self._items)

    def start(self) -> None:
        try:
            self._caller_loop = asyncio.get_running_loop()
        except RuntimeError:
            self._caller_loop = None
        self._thread = threading.Thread(target=self._thread_main, name="history-writer", daemon=True)
        self._thread.start()
        self._started.wait(10)

    def conversation_created(self, owner: str, conversation_id: str | None = None, *, title: str = "",
                             models: Sequence[str] = (), tools: Sequence[str] = (),
                             data_sources: Sequence[str] = ()) -> str:
        conversation_id = conversation_id or secrets.token_urlsafe(16)
        self._send(CreateConversation(owner, conversation_id, title, list(models), list(tools), list(data_sources)))
        return conversation_id

    def user_message(self, owner: str, conversation_id: str, text: str, *, model: str = "",
                     after: str | None = None, replaces: str | None = None) -> str:
        message_id = new_message_id()
        self._send(AppendMessage(owner, conversation_id, "user", model, text, message_id, after, replaces, None))
        return message_id

    def reply_started(self, owner: str, conversation_id: str, *, model: str = "", after: str | None = None,
                      replaces: str | None = None) -> Reply:
        reply = Reply(self, owner, new_message_id())
        self._send(AppendMessage(owner, conversation_id, "assistant", model, None, reply.id, after, replaces,
                                 self.lease_s))
        self._send((reply, OPENED))
        return reply

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait (without blocking the loop) until everything queued so far is written; False on timeout."""
        return await self._mark(Mark(concurrent.futures.Future()), timeout)

    async def aclose(self, timeout: float = 10.0) -> bool:
        """Write what is queued (waiting at most `timeout`), then stop the thread. False if rows were left."""
        if self._thread is None:
            return True
        stop = Mark(concurrent.futures.Future(), stop=True, deadline=time.monotonic() + timeout)
        written = await self._mark(stop, timeout)
        await asyncio.to_thread(self._thread.join, 5)
        return written

    async def _mark(self, mark: Mark, timeout: float) -> bool:
        self._send(mark)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(mark.done), timeout)
        except TimeoutError:
            return False

    def _send(self, item: Any) -> None:
        self._items.append(item)
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # ---- the writer thread ------------------------------------------------------------------------------

    def _thread_main(self) -> None:
        asyncio.run(self._run())

    def _set_health(self, healthy: bool) -> None:
        metrics.HISTORY_HEALTHY.set(int(healthy))
        if healthy == self._healthy:
            return
        self._healthy = healthy
        if healthy:
            log.warning("history store reachable again: writing the rows kept meanwhile")
            if self._dropped:
                log.error("history writer: %d rows were dropped while the store was unreachable", self._dropped)
                self._dropped = 0
        callback = self.on_health_change
        if callback is None:
            return
        if self._caller_loop is not None and not self._caller_loop.is_closed():
            self._caller_loop.call_soon_threadsafe(callback, healthy)
        else:
            callback(healthy)

    def _drain(self) -> None:
        """Turn what the chat queued into ops, in order: streamed text becomes one part per reply."""
        while self._items:
            item = self._items.popleft()
            if type(item) is not tuple:
                self._add(item)
                continue
            reply, payload = item
            if type(payload) is str:
                self._pending_text.setdefault(reply, []).append(payload)
                continue
            if payload is OPENED:
                self._open_replies[reply.id] = reply
                continue
            self._flush_text(reply)
            if isinstance(payload, Finish):
                payload.seq = reply.next_seq
                reply.next_seq += 1
                self._open_replies.pop(reply.id, None)
                self._add(payload)
            elif payload is RENEW:
                self._add_parts(reply, [])
            else:
                self._add_parts(reply, [payload])
        for reply in list(self._pending_text):
            self._flush_text(reply)
        now = time.monotonic()
        for reply in self._open_replies.values():
            if now - reply.renewed >= self.lease_s / 3:
                self._add_parts(reply, [])

    def _flush_text(self, reply: Reply) -> None:
        pieces = self._pending_text.pop(reply, None)
        if pieces:
            self._add_parts(reply, [text_part("".join(pieces))])

    def _add_parts(self, reply: Reply, parts: list[dict[str, Any]]) -> None:
        reply.renewed = time.monotonic()
        op = AppendParts(reply.owner, reply.id, reply.next_seq, self.lease_s, parts)
        reply.next_seq = op.end
        self._add(op)

    def _add(self, op: Op) -> None:
        last = self._ops[-1] if self._ops else None
        if isinstance(op, AppendParts) and isinstance(last, AppendParts):
            before = last.size()
            if last.absorb(op):
                self._queued += last.size() - before
                return
        if op.size() and self._queued >= self.max_pending:
            self._dropped += 1
            if self._dropped == 1:
                log.error("history store unreachable and %d rows are waiting: new rows are being DROPPED "
                          "until it is back", self.max_pending)
            return
        self._ops.append(op)
        self._queued += op.size()

    async def _run(self) -> None:
        """The writer thread's loop: every flush_s (or when woken) drain, then write the ops in order."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        self._started.set()
        store: SqlHistoryStore | None = None
        backoff, retry_at, stop_at = self.flush_s, 0.0, None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            self._drain()
            stopping = next((op for op in self._ops if isinstance(op, Mark) and op.stop), None)
            if stopping is not None and stop_at is None:
                stop_at = stopping.deadline
            if time.monotonic() >= retry_at:
                try:
                    store = store or await self._open()
                    await self._write(store)
                    backoff = self.flush_s
                    self._set_health(True)
                except Exception as exc:  # the database is away (or cannot be opened yet): keep the rows, retry
                    metrics.HISTORY_FAILURES.inc()
                    retry_at, backoff = time.monotonic() + backoff, min(backoff * 2, self.retry_max_s)
                    if self._healthy:
                        log.warning("history store unreachable (%s): keeping %d rows in memory, retrying",
                                    str(exc).splitlines()[0][:200] if is_transient(exc) else repr(exc),
                                    self._queued)
                    self._set_health(False)
            if stopping is not None and (not self._ops or time.monotonic() >= (stop_at or 0)):
                break
        if self._ops:
            log.error("history writer stopped with %d rows not written", self._queued)
        if store is not None:
            await store.close()

    async def _write(self, store: SqlHistoryStore) -> None:
        with metrics.timed(metrics.HISTORY_WRITES, bool(self._ops)):  # idle flushes are not writes
            while self._ops:
                batch = list(itertools.islice(self._ops, BATCH_OPS))
                try:
                    await write_batch(store, batch)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    await self._write_singly(store, len(batch))  # one write is refused: find it, drop it
                    continue
                for _ in batch:
                    self._done(self._ops.popleft())

    async def _write_singly(self, store: SqlHistoryStore, count: int) -> None:
        for _ in range(count):
            op = self._ops[0]
            try:
                await write_one(store, op)
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.warning("history writer dropped a %s it could not write: %s", type(op).__name__, exc)
            self._done(self._ops.popleft())

    def _done(self, op: Op) -> None:
        self._queued -= op.size()
        if isinstance(op, Mark):  # after the count: whoever waits on it sees `pending` without these rows
            op.resolve()
