"""A running tool's line to the person: its progress and its questions become events of the reply, and the
person's answers come back through the session (`ChatSession.answer`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

from galaxy_chat.vocabulary.events import Event, ToolCallAnswer, ToolCallLog, ToolCallProgress, ToolCallQuestion

log = logging.getLogger(__name__)

ACTIONS = frozenset({"accept", "decline", "cancel"})
MAX_NOTE_CHARS = 4_000  # a log line, not a result: a chatty server must not fill the session log
Answer = tuple[str, dict[str, Any] | None]


class Questions:
    """The open questions of one session's running tools, each waiting for the person's answer."""

    def __init__(self) -> None:
        self._open: dict[str, asyncio.Future[Answer]] = {}

    def open(self, question_id: str) -> asyncio.Future[Answer]:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._open[question_id] = future
        return future

    def close(self, question_id: str) -> None:
        self._open.pop(question_id, None)

    def answer(self, question_id: str, action: str, content: dict[str, Any] | None) -> bool:
        """Give the person's answer; False when the question is not open (answered, timed out, or not theirs)."""
        future = self._open.get(question_id)
        if future is None or future.done() or action not in ACTIONS:
            return False
        future.set_result((action, content if action == "accept" else None))
        return True


class EventCallIO:
    """`tools.base.CallIO` for one call: what the tool reports is put as events on the reply's stream."""

    def __init__(self, call_id: str, put: Callable[[Event], None], questions: Questions) -> None:
        self.call_id = call_id
        self._put = put
        self._questions = questions

    def progress(self, progress: float | None, total: float | None = None, message: str = "") -> None:
        self._put(ToolCallProgress(self.call_id, progress, total, message))

    def note(self, level: str, text: str) -> None:
        self._put(ToolCallLog(self.call_id, level, text[:MAX_NOTE_CHARS]))

    async def ask(self, message: str, schema: dict[str, Any], timeout_s: float) -> Answer:
        question_id = secrets.token_hex(8)
        future = self._questions.open(question_id)
        self._put(ToolCallQuestion(self.call_id, question_id, message, schema, timeout_s))
        try:
            action, content = await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            log.info("question %s of call %s: no answer in %.0f s, declined", question_id, self.call_id, timeout_s)
            self._put(ToolCallAnswer(self.call_id, question_id, "decline", None, timed_out=True))
            return "decline", None
        finally:
            self._questions.close(question_id)
        self._put(ToolCallAnswer(self.call_id, question_id, action, content))
        return action, content
