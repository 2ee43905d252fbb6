"""Live sessions: one active session per user, found again by a reload, a second tab or another browser.

Ids are unguessable (see Conversation); every lookup by id also checks the owner, so no one reaches
another person's session by knowing or guessing its id. With several replicas (`live`, REDIS_URL) the
person's live chat is one across all of them: the replica a page opens on takes it over (see live_chats.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.live_chats import LiveChats
from galaxy_chat.vocabulary.users import User

log = logging.getLogger(__name__)


Restore = Callable[[User, str], Awaitable[ChatSession | None]]  # a stored chat of the user's, opened again


class SessionRegistry:
    def __init__(self, create: Callable[[User], ChatSession], idle_minutes: float,
                 restore: Restore | None = None, live: LiveChats | None = None) -> None:
        self._create = create
        self._restore = restore
        self.live = live
        self.idle_s = idle_minutes * 60
        self._active: dict[str, ChatSession] = {}  # email -> the user's current session
        self._finishing: set[ChatSession] = set()  # no longer live here, a reply still running (followed elsewhere)
        self._task: asyncio.Task[None] | None = None
        self._announcing: set[asyncio.Task[None]] = set()

    def active_for(self, user: User) -> ChatSession:
        """The user's current session on this replica, created when there is none (or it was closed)."""
        session = self._active.get(user.email)
        if session is None:
            session = self._active[user.email] = self._watched(self._create(user))
            log.info("session %s started for %s", session.id, user.email)
        return session

    async def current_for(self, user: User) -> ChatSession:
        """The user's live chat for a page at `/`: with several replicas the one they last opened on any."""
        if self.live is None:
            return self.active_for(user)
        wanted = await self.live.located(user.email)
        current = self._active.get(user.email)
        session = None
        if wanted is not None and (current is None or current.id != wanted):
            session = self._finishing_here(user, wanted)
            if session is None and (restore := self._restore) is not None:
                session = await self.live.reopen(lambda: restore(user, wanted), wanted)
        session = self._made_live(user, session) if session is not None else self.active_for(user)
        await self.live.shown_here(user.email, session)
        return session

    def _finishing_here(self, user: User, conversation_id: str) -> ChatSession | None:
        """The chat's session whose reply still runs here after the person went elsewhere: live here again."""
        for session in self._finishing:
            if session.user.email == user.email and session.id == conversation_id:
                self._finishing.discard(session)
                return session
        return None

    def _watched(self, session: ChatSession) -> ChatSession:
        if self.live is not None:
            self.live.watch(session)
        return session

    def _made_live(self, user: User, session: ChatSession) -> ChatSession:
        current = self._active.pop(user.email, None)
        if current is not None:
            current.close()
        self._active[user.email] = self._watched(session)
        log.info("session %s reopened for %s", session.id, user.email)
        return session

    def _announce(self, user: User, session: ChatSession) -> None:
        if self.live is not None:
            task = asyncio.create_task(self.live.shown_here(user.email, session), name="announce-chat")
            self._announcing.add(task)
            task.add_done_callback(self._announcing.discard)

    def moved_elsewhere(self, email: str, conversation_id: str) -> None:
        """The person opened a chat on another replica: the page here is told, the session here ends (once its
        running reply, followed there, has finished)."""
        session = self._active.pop(email, None)
        if session is None:
            return
        session.listeners.moved_away()
        if not session.busy:
            session.close()
            return
        self._finishing.add(session)
        task = asyncio.create_task(session.wait(), name=f"finishing-{session.id}")
        task.add_done_callback(lambda _: self._finished(session))

    def _finished(self, session: ChatSession) -> None:
        if session in self._finishing:  # not live here again meanwhile
            self._finishing.discard(session)
            session.close()

    def stop_for(self, email: str, conversation_id: str) -> None:
        """Stop pressed on another replica for a reply running here."""
        for session in [self._active.get(email), *self._finishing]:
            if session is not None and session.user.email == email and session.id == conversation_id:
                session.stop()

    def new_for(self, user: User) -> ChatSession:
        """New chat: the current session ends (a running reply is stopped) and a fresh one starts, with the
        model the person had chosen while they may still use it."""
        old = self._active.pop(user.email, None)
        if old is not None:
            old.close()
        session = self.active_for(user)
        if old is not None and old.model and old.model != session.model and session.rules.can_use("model", old.model):
            session.switch_model(old.model)
        self._announce(user, session)
        return session

    async def open(self, user: User, conversation_id: str) -> ChatSession | None:
        """Make the user's stored chat `conversation_id` their live session (the current one ends, a running
        reply of it is stopped); None when there is no such chat of theirs."""
        current = self._active.get(user.email)
        if current is not None and current.id == conversation_id:
            session: ChatSession | None = current
        elif (session := self._finishing_here(user, conversation_id)) is not None:
            self._made_live(user, session)
        elif self._restore is None:
            return None
        else:
            restore = self._restore
            session = await (self.live.reopen(lambda: restore(user, conversation_id), conversation_id)
                             if self.live is not None else restore(user, conversation_id))
            if session is None:
                return None
            self._made_live(user, session)
        if self.live is not None:
            await self.live.shown_here(user.email, session)
        return session

    def get(self, session_id: str, user: User) -> ChatSession | None:
        """The session with this id if it belongs to `user`; None otherwise (callers answer 404)."""
        session = self._active.get(user.email)
        return session if session is not None and session.id == session_id else None

    def sessions(self) -> list[ChatSession]:
        return [*self._active.values(), *self._finishing]

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
        if self.live is not None:
            self.live.start(self.moved_elsewhere, self.stop_for)

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
        sessions = self.sessions()
        for session in sessions:
            session.stop()
        await asyncio.gather(*(session.wait() for session in sessions), return_exceptions=True)
        for session in sessions:
            session.close()
        self._active.clear()
