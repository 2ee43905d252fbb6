"""Better chat titles, in the background: after a chat's first reply, its model is asked for a short title
(the first message's first line is the title until then, and stays it when no model can answer). It never
blocks the chat, and a failure only leaves the first title."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.history import History
from galaxy_chat.core.turn import Turn
from galaxy_chat.llm.messages import ChatRequest, Message, TextPiece
from galaxy_chat.llm.provider import Provider
from galaxy_chat.vocabulary.events import Done, Event, TextDelta

log = logging.getLogger(__name__)

PROMPT = ("Write a title of at most six words for a chat that begins with the exchange below. Answer with the "
          "title only, no quotes, no full stop.")
TIMEOUT_S = 20.0
MAX_TITLE = 80


def clean_title(text: str) -> str:
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line.strip("\"'`*#\u2018\u2019\u201c\u201d").rstrip(".").strip()[:MAX_TITLE]


async def ask_title(provider: Provider, question: str, answer: str) -> str:
    request = ChatRequest([Message("system", PROMPT), Message("user", f"{question[:2000]}\n\n---\n\n{answer[:2000]}")],
                          max_tokens=24, temperature=0.2)
    pieces: list[str] = []
    async for item in provider.stream(request):
        if isinstance(item, TextPiece):
            pieces.append(item.text)
    return clean_title("".join(pieces))


class TitleWriter:
    """Watches sessions; after the first model-answered turn of a new chat, asks for its title."""

    def __init__(self, history: History, provider_for: Callable[[str], Provider]) -> None:
        self.history = history
        self.provider_for = provider_for
        self.tasks: set[asyncio.Task[None]] = set()

    def watch(self, session: ChatSession) -> None:
        if session.turns:  # a stored chat opened again has its title
            return

        def listener(turn: Turn, event: Event | None) -> None:
            if event is None or not isinstance(event, Done):
                return
            unsubscribe()
            text = "".join(e.text for e in turn.events if isinstance(e, TextDelta))
            if not turn.direct and not event.stopped and text and session.turns[:1] == [turn]:
                task = asyncio.create_task(self._retitle(session, turn.model, turn.text, text))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

        unsubscribe = session.subscribe(listener)

    async def _retitle(self, session: ChatSession, model: str, question: str, answer: str) -> None:
        try:
            title = await asyncio.wait_for(ask_title(self.provider_for(model), question, answer), TIMEOUT_S)
        except Exception as exc:  # no model, a slow one, a refusal: the first title stays
            log.info("no better title for chat %s (%s)", session.id, type(exc).__name__)
            return
        await self.history.writer.flush()  # the chat's first rows may still be on their way to the database
        if title and await self.history.rename(session.user.email, session.id, title):
            session.retitled(title)
