"""The writing side of live replies across replicas: each reply this replica runs goes to a stream of its own
(`<conversation>:<turn>`) that a tab on another replica can follow, and `reply:<conversation>` says, while it
runs, where that stream is. Used only with a shared coordinator (REDIS_URL).

A stream starts with the turn (its text and its place in the history), then every event's record from the
one codec, then `done`. Records of all replies are sent together every BEAT_S in one round trip, a reply's
text since its last other record joined into one. While a reply runs its `reply:` key is renewed and an
`alive` record written every HEARTBEAT_S, so a follower tells a slow model from a replica that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from galaxy_chat.coord import Coordinator, Record
from galaxy_chat.coord.holder import REPLICA
from galaxy_chat.core.turn import Turn
from galaxy_chat.vocabulary.event_json import encode
from galaxy_chat.vocabulary.events import Done, Event, TextDelta

log = logging.getLogger(__name__)

BEAT_S = 0.05  # a follower elsewhere is this much behind at most; the replica's own tabs are not
HEARTBEAT_S = 1.5
REPLY_KEY_TTL_S = 5.0  # a replica that died mid-reply: its `reply:` key is gone within this
TURN, ALIVE = "reply_turn", "reply_alive"  # a stream's own records beside the events' (no event has these types)
TEXT = "text_delta"


def reply_key(conversation_id: str) -> str:
    return f"reply:{conversation_id}"


def turn_record(turn: Turn) -> Record:
    """What a follower needs to show the turn before its events: the message and its place in the history."""
    replaced = turn.earlier[-1].user_message_id if turn.earlier else None
    return {"type": TURN, "turn": turn.id, "text": turn.text, "model": turn.model,
            "action": turn.action.model_dump(mode="json") if turn.action is not None else None,
            "attachments": [file.model_dump(mode="json") for file in turn.attachments],
            "user_message_id": turn.user_message_id, "reply_message_id": turn.reply_message_id,
            "parent_message_id": turn.parent_message_id, "replaces": replaced}


class StreamBatcher:
    """Records of all of this replica's live replies, sent in order, a beat's worth in one round trip."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator
        self._pending: list[tuple[str, Record]] = []
        self._text_at: dict[str, int] = {}  # stream -> where its text record still open for more text is queued
        self._after: list[Callable[[], Awaitable[None]]] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, stream: str, record: Record, then: Callable[[], Awaitable[None]] | None = None) -> None:
        """Queue `record`; `then()` runs once it (and everything before it) was sent."""
        at = self._text_at.get(stream) if record["type"] == TEXT else None
        if at is not None:  # the reply's text since its last other record: one record
            queued = self._pending[at]
            self._pending[at] = (stream, {"type": TEXT, "text": queued[1]["text"] + record["text"]})
        else:
            if record["type"] == TEXT:
                self._text_at[stream] = len(self._pending)
            else:
                self._text_at.pop(stream, None)
            self._pending.append((stream, record))
        if then is not None:
            self._after.append(then)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send_all(), name="reply-streams")

    async def _send_all(self) -> None:
        while self._pending or self._after:
            await asyncio.sleep(BEAT_S)  # gather a beat of every reply's records
            batch, self._pending, self._text_at = self._pending, [], {}
            after, self._after = self._after, []
            try:
                if batch:
                    await self.coordinator.publish_many(batch)
            except Exception:  # a follower elsewhere sees a gap; the history keeps everything
                log.exception("sending %d live-reply records failed", len(batch))
            for step in after:
                try:
                    await step()
                except Exception:
                    log.exception("a step after sending live-reply records failed")

    async def aclose(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 2.0)


class ReplyMirror:
    """Writes the replies of this replica's sessions to their streams (a listener of each session)."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator
        self.batcher = StreamBatcher(coordinator)
        self._running: dict[str, tuple[str, Record]] = {}  # turn id -> (its stream, its `reply:` key value)
        self._heartbeat: asyncio.Task[None] | None = None

    def listener(self, conversation_id: str) -> Callable[[Turn, Event | None], None]:
        def mirror(turn: Turn, event: Event | None) -> None:
            if turn.remote:  # followed from another replica, which writes it
                return
            if event is None:
                self.started(conversation_id, turn)
            elif (running := self._running.get(turn.id)) is not None:
                record = {"type": TEXT, "text": event.text} if type(event) is TextDelta else encode(event)  # hot path
                self.batcher.add(running[0], record, self._ended(conversation_id, turn.id)
                                 if isinstance(event, Done) else None)
                if isinstance(event, Done):
                    del self._running[turn.id]

        return mirror

    def started(self, conversation_id: str, turn: Turn) -> None:
        stream = f"{conversation_id}:{turn.id}"
        value: Record = {"stream": stream, "replica": REPLICA, "turn": turn.id}
        self._running[turn.id] = (stream, value)
        self.batcher.add(stream, turn_record(turn), lambda: self.coordinator.remember(
            reply_key(conversation_id), value, REPLY_KEY_TTL_S))
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat(), name="reply-heartbeat")

    def _ended(self, conversation_id: str, turn_id: str) -> Callable[[], Awaitable[None]]:
        value = self._running[turn_id][1]
        return lambda: self.coordinator.forget(reply_key(conversation_id), value)

    async def _beat(self) -> None:
        while self._running:
            await asyncio.sleep(HEARTBEAT_S)
            for stream, value in list(self._running.values()):
                conversation_id = stream.rpartition(":")[0]
                self.batcher.add(stream, {"type": ALIVE}, self._renewal(conversation_id, value))

    def _renewal(self, conversation_id: str, value: Record) -> Callable[[], Awaitable[None]]:
        async def renew() -> None:
            if value["turn"] in self._running:  # not after its end: that forgot the key
                await self.coordinator.remember(reply_key(conversation_id), value, REPLY_KEY_TTL_S)

        return renew

    async def aclose(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await self.batcher.aclose()
