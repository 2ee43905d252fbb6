"""The core's door to the conversation history: what the page and the HTTP API may ask of it (a person's
chats: list, search, open, rename, pin, delete, undo), the recorder every chat session writes through, the
health of the writes, and the retention purge. Nobody above the core talks to the store itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from galaxy_chat.core.history_recorder import SessionRecorder
from galaxy_chat.store import (
    ConversationMeta,
    ConversationView,
    HistoryStore,
    ListPage,
    SearchHit,
    StoredMessage,
    open_store,
    upgrade,
)
from galaxy_chat.store.usage import UsageReport
from galaxy_chat.store.writer import HistoryWriter

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0
MAX_TITLE = 120


class History:
    def __init__(self, store: HistoryStore, writer: HistoryWriter, retention_days: int | None) -> None:
        self.store = store
        self.writer = writer
        self.retention_days = retention_days
        self._health_listeners: list[Callable[[bool], None]] = []
        self._purge_task: asyncio.Task[None] | None = None
        self._sweeps: list[Callable[[], Awaitable[object]]] = []
        writer.on_health_change = self._health_changed

    @classmethod
    async def open(cls, database_url: str, data_dir: Path, retention_days: int | None) -> History:
        """Migrate (once across processes), open the store and start the writer; StoreError (one line) when
        the database cannot be used."""
        await upgrade(database_url, data_dir)
        store = await open_store(database_url, data_dir)
        writer = HistoryWriter(database_url, data_dir)
        writer.start()
        return cls(store, writer, retention_days)

    # ---- writing ---------------------------------------------------------------------------------------

    def recorder(self, owner: str, conversation_id: str, last_message: str | None = None) -> SessionRecorder:
        """What a session writes through; `last_message` is the end of a stored conversation it continues."""
        return SessionRecorder(self.writer, owner, conversation_id, last_message)

    @property
    def healthy(self) -> bool:
        return self.writer.healthy

    def on_health_change(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """`listener(healthy)` on the event loop when saving stops or resumes; returns the unsubscribe call."""
        self._health_listeners.append(listener)
        return lambda: self._health_listeners.remove(listener) if listener in self._health_listeners else None

    def _health_changed(self, healthy: bool) -> None:
        for listener in list(self._health_listeners):
            try:
                listener(healthy)
            except Exception:  # one page's trouble must not keep the news from the others
                log.exception("a history health listener failed")

    # ---- reading and changing a person's chats --------------------------------------------------------

    async def page(self, owner: str, cursor: str | None = None, limit: int = 30) -> ListPage:
        return await self.store.list_conversations(owner, limit=limit, cursor=cursor)

    async def search(self, owner: str, query: str, limit: int = 20) -> list[SearchHit]:
        query = query.strip()[:200]
        return await self.store.search(owner, query, limit=limit) if query else []

    async def meta(self, owner: str, conversation_id: str) -> ConversationMeta | None:
        return await self.store.get_conversation(owner, conversation_id)

    async def load(self, owner: str, conversation_id: str, chosen: Iterable[str] = ()) -> ConversationView | None:
        return await self.store.load_conversation(owner, conversation_id, chosen=chosen)

    async def message(self, owner: str, message_id: str) -> StoredMessage | None:
        return await self.store.load_message(owner, message_id)

    async def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        title = " ".join(title.split())[:MAX_TITLE]
        return bool(title) and await self.store.set_title(owner, conversation_id, title)

    async def pin(self, owner: str, conversation_id: str, pinned: bool) -> bool:
        return await self.store.set_pinned(owner, conversation_id, pinned)

    async def delete(self, owner: str, conversation_id: str) -> bool:
        """Gone from the list and from search at once; `restore` within the undo window brings it back."""
        return await self.store.delete_conversation(owner, conversation_id)

    async def restore(self, owner: str, conversation_id: str) -> bool:
        return await self.store.restore_conversation(owner, conversation_id)

    async def delete_all(self, owner: str) -> int:
        removed = await self.store.delete_all(owner)
        await self._removed()
        return removed

    def on_removal(self, sweep: Callable[[], Awaitable[object]]) -> None:
        """`sweep()` after chats are removed for good (purge, delete all): what is kept beside them goes too."""
        self._sweeps.append(sweep)

    async def _removed(self) -> None:
        for sweep in self._sweeps:
            try:
                await sweep()
            except Exception:  # the next purge round sweeps again
                log.warning("a sweep after removing chats failed", exc_info=True)

    async def usage(self, since: datetime, until: datetime) -> UsageReport:
        """Everyone's usage over a period, for admins only (the admin page asks after its own check)."""
        return await self.store.usage(since, until)

    # ---- retention and shutdown ------------------------------------------------------------------------

    def start(self) -> None:
        self._purge_task = asyncio.create_task(self._purge_periodically(), name="history purge")

    async def _purge_periodically(self) -> None:
        while True:
            try:
                removed = await self.store.purge(self.retention_days, datetime.now(UTC))
                if removed:
                    log.info("history purge removed %d conversations", removed)
                await self._removed()
            except Exception:  # the database may be away: the next round tries again
                log.warning("history purge failed", exc_info=True)
            await asyncio.sleep(PURGE_EVERY_S)

    async def aclose(self) -> None:
        if self._purge_task is not None:
            self._purge_task.cancel()
        await self.writer.aclose()
        await self.store.close()
