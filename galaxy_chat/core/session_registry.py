"""Live sessions: one active session per user, found again by a reload, a second tab or another browser.

Ids are unguessable (see Conversation); every lookup by id also checks the owner, so no one reaches
another person's session by knowing or guessing its id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.vocabulary.users import User

log = logging.getLogger(__name__)


Restore = Callable[[User, str], Awaitable[ChatSession | None]]  # a stored chat of the user's, opened again


class SessionRegistry:
    def __init__(self, create: Callable[[User], ChatSession], idle_minutes: float,
                 restore: Restore | None = None) -> None:
        self._create = create
        self._restore = restore
        self.idle_s = idle_minutes * 60
        self._active: dict[str, ChatSession] = {}  # email -> the user's current session
        self._task: asyncio.Task[None] | None = None

    def active_for(self, user: User) -> ChatSession:
        """The user's current session, created when there is none (or it was closed)."""
        session = self._active.get(user.email)
        if session is None:
            session = self._active[user.email] = self._create(user)
            log.info("session %s started for %s", session.id, user.email)
        return session

    def new_for(self, user: User) -> ChatSession:
        """New chat: the current session ends (a running reply is stopped) and a fresh one starts, with the
        model the person had chosen while they may still use it."""
        old = self._active.pop(user.email, None)
        if old is not None:
            old.close()
        session = self.active_for(user)
        if old is not None and old.model and old.model != session.model and session.rules.can_use("model", old.model):
            session.switch_model(old.model)
        return session

    async def open(self, user: User, conversation_id: str) -> ChatSession | None:
        """Make the user's stored chat `conversation_id` their live session (the current one ends, a running
        reply of it is stopped); None when there is no such chat of theirs."""
        current = self._active.get(user.email)
        if current is not None and current.id == conversation_id:
            return current
        if self._restore is None:
            return None
        session = await self._restore(user, conversation_id)
        if session is None:
            return None
        current = self._active.pop(user.email, None)
        if current is not None:
            current.close()
        self._active[user.email] = session
        log.info("session %s reopened for %s", session.id, user.email)
        return session

    def get(self, session_id: str, user: User) -> ChatSession | None:
        """The session with this id if it belongs to `user`; None otherwise (callers answer 404)."""
        session = self._active.get(user.email)
        return session if session is not None and session.id == session_id else None

    def sessions(self) -> list[ChatSession]:
        return list(self._active.values())

    def evict_idle(self, now: float | None = None) -> list[str]:
        """Close sessions unused for the idle time with no page attached and no reply running."""
        now = time.monotonic() if now is None else now
        evicted = []
        for email, session in list(self._active.items()):
            if not session.attached and not session.busy and now - session.last_active >= self.idle_s:
                del self._active[email]
                session.close()
                evicted.append(session.id)
                log.info("session %s of %s closed after %.0f idle minutes", session.id, email, self.idle_s / 60)
        return evicted

    def start(self) -> None:
        self._task = asyncio.create_task(self._evict_periodically(), name="session-eviction")

    async def _evict_periodically(self) -> None:
        while True:
            await asyncio.sleep(min(60.0, max(1.0, self.idle_s / 10)))
            try:
                self.evict_idle()
            except Exception:
                log.exception("evicting idle sessions failed")

    async def stop(self) -> None:
        """Shutdown: running replies are stopped (partial text kept and logged), every session ends."""
        if self._task is not None:
            self._task.cancel()
        sessions = list(self._active.values())
        for session in sessions:
            session.stop()
        await asyncio.gather(*(session.wait() for session in sessions), return_exceptions=True)
        for session in sessions:
            session.close()
        self._active.clear()
