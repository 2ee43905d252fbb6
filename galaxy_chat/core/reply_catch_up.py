"""The rest of a followed reply from the history, when its live stream cannot be trusted (Redis was away while
the reply went on: what was written meanwhile never reached the stream).

The follower stops reading the stream, waits until the history has the reply's end (or the reply reads as
interrupted: its writer died), and shows what it had not shown yet: the text after what it showed, then the
events after that. The history joins a reply's text and leaves out progress and log lines, so both sides are
compared in that form.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from galaxy_chat.core.history_recorder import ACTION_PART, ATTACHMENTS_PART, NOT_KEPT
from galaxy_chat.core.history_restore import INTERRUPTED
from galaxy_chat.store import MessageStatus, StoredMessage
from galaxy_chat.vocabulary.event_json import decode
from galaxy_chat.vocabulary.events import Done, Error, Event, TextDelta, Usage

POLL_S = 0.5
StoredReply = Callable[[], Awaitable[StoredMessage | None]]


def joined(events: list[Event]) -> list[Event]:
    """The events as the history keeps them: consecutive text joined, progress and log lines left out."""
    kept: list[Event] = []
    for event in events:
        if isinstance(event, NOT_KEPT):
            continue
        if isinstance(event, TextDelta) and kept and isinstance(kept[-1], TextDelta):
            kept[-1] = TextDelta(kept[-1].text + event.text)
        else:
            kept.append(event)
    return kept


def not_shown(shown: list[Event], stored: list[Event]) -> list[Event]:
    """What of `stored` comes after `shown` (a part of it, the last text perhaps cut in the middle)."""
    seen, kept = joined(shown), joined(stored)
    at = len(seen)
    if at and at <= len(kept) and isinstance(seen[-1], TextDelta) and isinstance(kept[at - 1], TextDelta):
        rest = kept[at - 1].text.removeprefix(seen[-1].text)
        return ([TextDelta(rest)] if rest else []) + kept[at:]
    return kept[at:]


def stored_events(reply: StoredMessage) -> list[Event]:
    events: list[Event] = []
    for part in reply.parts:
        if part.get("type") not in (ACTION_PART, ATTACHMENTS_PART) and (event := decode(part)) is not None:
            events.append(event)
    return events


async def rest_from_history(stored_reply: StoredReply, shown: list[Event]) -> AsyncIterator[Event]:
    """Once the history has the reply's end: the events not shown yet, ending with Done."""
    while (reply := await stored_reply()) is not None and reply.status == MessageStatus.STREAMING:
        await asyncio.sleep(POLL_S)
    events = stored_events(reply) if reply is not None else []
    for event in not_shown(shown, events):
        yield event
    if not events or not isinstance(events[-1], Done):
        yield Error(INTERRUPTED, kind="interrupted")
        yield Done(Usage(), 0.0, None, 0, stopped=True)
