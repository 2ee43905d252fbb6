"""A person's live chat across replicas (REDIS_URL): which chat is theirs now, the "moved" notice to a tab on
another replica, and a reply running elsewhere followed here until it ends.

- `live:<email>` names the chat the person last opened, on whichever replica; a page at `/` opens that one.
- Opening it on a replica announces it on the `chats` channel: the replica that showed it before tells its
  page the chat moved and lets its session go (a running reply finishes there first, followed here).
- A reply running on another replica (`reply:<conversation>`, see reply_streams.py) is shown from its stream:
  from its first record, so nothing is lost or shown twice; when it ends the chat continues here. A stream
  that falls silent without its end, once the `reply:` key is gone too, means that replica died: the reply
  ends marked interrupted, as the history shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from galaxy_chat.coord import Coordinator, Record
from galaxy_chat.coord.holder import REPLICA
from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.history import History
from galaxy_chat.core.history_restore import INTERRUPTED
from galaxy_chat.core.reply_catch_up import StoredReply, rest_from_history
from galaxy_chat.core.reply_streams import ALIVE, TURN, ReplyMirror, reply_key
from galaxy_chat.core.turn import Listener, Turn
from galaxy_chat.observability import metrics
from galaxy_chat.store import StoredMessage
from galaxy_chat.vocabulary.attachments import Attachment
from galaxy_chat.vocabulary.event_json import decode
from galaxy_chat.vocabulary.events import Done, Error, Event, Usage
from galaxy_chat.vocabulary.widgets import CallTool

log = logging.getLogger(__name__)

CHANNEL = "chats"
CATCH_UP = "catch_up"  # the stream has a gap (Redis was away): the rest comes from the history
QUIET_S = 4.0  # a running reply writes at least every HEARTBEAT_S: this much silence asks whether it lives
# Both waits come before the page is built, which NiceGUI allows 3 s: normally neither waits at all.
FIRST_RECORD_S = 1.0
SAVED_WITHIN_S = 1.5  # a chat begun a moment ago on another replica may not be in the history yet (0.5 s flushes)


def live_key(email: str) -> str:
    return f"live:{email}"


class LiveChats:
    def __init__(self, coordinator: Coordinator, keep_s: float, history: Callable[[], History | None]) -> None:
        self.coordinator = coordinator
        self.history = history  # where a followed reply is caught up from after an outage of Redis
        self.keep_s = keep_s  # how long a person's live chat is remembered (the idle time of a session)
        self.mirror = ReplyMirror(coordinator)
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._watched: weakref.WeakSet[ChatSession] = weakref.WeakSet()

    def start(self, moved: Callable[[str, str], None], stop: Callable[[str, str], None]) -> None:
        """Hear the other replicas: `moved(email, conversation)` when a person's chat opened elsewhere,
        `stop(email, conversation)` when they pressed Stop there for a reply running here."""
        self._task = asyncio.create_task(self._listen(moved, stop), name="live-chats")

    async def _listen(self, moved: Callable[[str, str], None], stop: Callable[[str, str], None]) -> None:
        while True:
            try:
                async for notice in self.coordinator.subscribe(CHANNEL):
                    if notice.get("replica") == REPLICA:
                        continue
                    handle = moved if notice.get("type") == "attached" else stop
                    handle(str(notice.get("email")), str(notice.get("conversation")))
            except Exception:  # a broken notice or a fault must not end the listening
                log.exception("handling a notice from another replica failed")
                await asyncio.sleep(1.0)

    def watch(self, session: ChatSession) -> None:
        """Replies of `session` run here: write them to their streams (once, however often it is live here)."""
        if session not in self._watched:
            self._watched.add(session)
            session.subscribe(self.mirror.listener(session.id))
            session.subscribe(self._keeping_live(session))

    def _keeping_live(self, session: ChatSession) -> Listener:
        """Each message sent keeps the chat remembered as the person's live one (a tab open for long included)."""
        def keep(turn: Turn, event: Event | None) -> None:
            if event is None and not turn.remote:
                self._spawn(self.coordinator.remember(live_key(session.user.email), self._where(session), self.keep_s))

        return keep

    @staticmethod
    def _where(session: ChatSession) -> Record:
        return {"conversation": session.id, "replica": REPLICA}

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name="live-chats")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def located(self, email: str) -> str | None:
        """The id of the chat the person last opened, on any replica."""
        where = await self.coordinator.recall(live_key(email))
        return str(where["conversation"]) if where else None

    async def reopen(self, restore: Callable[[], Awaitable[ChatSession | None]],
                     conversation_id: str) -> ChatSession | None:
        """`restore()`, waiting a moment for the history when a reply of that chat runs elsewhere already."""
        session = await restore()
        waited = 0.0
        while session is None and waited < SAVED_WITHIN_S and await self.coordinator.recall(reply_key(conversation_id)):
            await asyncio.sleep(0.25)
            waited += 0.25
            session = await restore()
        return session

    async def shown_here(self, email: str, session: ChatSession) -> None:
        """The person's chat is `session`, on this replica: say so to the others, and follow its reply if one
        runs elsewhere."""
        try:
            await self.coordinator.remember(live_key(email), self._where(session), self.keep_s)
            await self.coordinator.notify(CHANNEL, {"type": "attached", "email": email, "conversation": session.id,
                                                    "replica": REPLICA})
            if not session.busy:
                await self.follow(session)
        except Exception:  # the chat still works here; only what the other replicas know of it is behind
            log.exception("telling the other replicas that %s opened chat %s failed", email, session.id)

    async def follow(self, session: ChatSession) -> bool:
        """Show the reply of `session`'s chat that runs on another replica, if one does; True if it does."""
        running = await self.coordinator.recall(reply_key(session.id))
        if running is None or running.get("replica") == REPLICA:
            return False
        records = self._records(session.id, str(running["stream"]))
        try:
            first = await asyncio.wait_for(anext(records), FIRST_RECORD_S)
        except (TimeoutError, StopAsyncIteration):
            await records.aclose()
            return False
        if first.get("type") != TURN or session.busy:
            await records.aclose()
            return False
        turn = placed(session, first)
        email = session.user.email
        session.follow(turn, self._events(records, self._stored(email, turn.reply_message_id)),
                       lambda: self._ask_stop(email, session.id))
        log.info("following the reply of chat %s from replica %s", session.id, running.get("replica"))
        return True

    def _ask_stop(self, email: str, conversation_id: str) -> None:
        notice = {"type": "stop", "email": email, "conversation": conversation_id, "replica": REPLICA}
        self._spawn(self.coordinator.notify(CHANNEL, notice))

    def _stored(self, email: str, reply_id: str | None) -> StoredReply:
        async def stored() -> StoredMessage | None:
            history = self.history()
            return await history.message(email, reply_id) if history is not None and reply_id else None

        return stored

    async def _records(self, conversation_id: str, stream: str) -> AsyncIterator[Record]:
        """The stream's records from its start until `done`; when it falls silent and the writer's `reply:` key
        is gone, one `interrupted` record (that replica died). After an outage of Redis the stream has a gap:
        one `catch_up` record, and the rest comes from the history."""
        last, outages = "0", self.coordinator.outages
        while True:
            async for entry_id, record in self.coordinator.follow(stream, last, idle_s=QUIET_S):
                if self.coordinator.outages != outages:
                    break
                last = entry_id
                if record.get("type") != ALIVE:
                    yield record
                if record.get("type") == "done":
                    return
            if self.coordinator.outages != outages:
                yield {"type": CATCH_UP}
                return
            running = await self.coordinator.recall(reply_key(conversation_id))
            if running is None or running.get("stream") != stream:
                yield {"type": "interrupted"}
                return

    async def _events(self, records: AsyncIterator[Record], stored: StoredReply) -> AsyncIterator[Event]:
        shown: list[Event] = []
        async with contextlib.aclosing(records):
            async for record in records:
                if record.get("type") == "interrupted":
                    log.warning("the replica writing a followed reply went away: shown as interrupted")
                    metrics.REPLIES_FOLLOWED.labels("interrupted").inc()
                    yield Error(INTERRUPTED, kind="interrupted")
                    yield Done(Usage(), 0.0, None, 0, stopped=True)
                    return
                if record.get("type") == CATCH_UP:
                    log.warning("Redis was away while a followed reply went on: its rest comes from the history")
                    metrics.REPLIES_FOLLOWED.labels("caught_up").inc()
                    async for event in rest_from_history(stored, shown):
                        yield event
                    return
                if (event := decode(record)) is not None:
                    shown.append(event)
                    if isinstance(event, Done):
                        metrics.REPLIES_FOLLOWED.labels("done").inc()
                    yield event

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.mirror.aclose()


def placed(session: ChatSession, first: Record) -> Turn:
    """The followed reply's turn in `session`: the stored one it continues (its events come again from the
    stream's start), a new version of the last turn (regenerate, edit), or a new turn."""
    last = session.turns[-1] if session.turns else None
    if last is not None and last.reply_message_id == first.get("reply_message_id"):
        last.events.clear()
        last.remote = True
        return last
    action = first.get("action")
    turn = Turn(text=str(first.get("text", "")), model=str(first.get("model", "")),
                action=CallTool.model_validate(action) if action else None,
                attachments=[Attachment.model_validate(file) for file in first.get("attachments") or []],
                remote=True)
    turn.user_message_id, turn.reply_message_id = first.get("user_message_id"), first.get("reply_message_id")
    turn.parent_message_id = first.get("parent_message_id")
    if last is not None and last.user_message_id in (first.get("user_message_id"), first.get("replaces")):
        session.turns.pop()
        turn.earlier = [*last.earlier, replace(last, earlier=[])]
        turn.history_start = last.history_start
    else:
        turn.history_start = len(session.conversation.messages)
    session.turns.append(turn)
    return turn
