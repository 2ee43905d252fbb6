"""A chat session: the conversation, its settings (model, tools, data sources) and its running reply.

A reply belongs to the session, not to a browser tab: it runs as a task of its own and every event is
kept in the session's turns and passed to whoever listens (zero, one or several pages). A page that
attaches later renders the turns so far and then follows the live events.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from galaxy_chat.coord.holder import HeldLease
from galaxy_chat.core.chat_files import ConversationFiles
from galaxy_chat.core.commands import is_command
from galaxy_chat.core.conversation import Conversation
from galaxy_chat.core.engine import ChatEngine
from galaxy_chat.core.history_rebuild import replay_turn
from galaxy_chat.core.history_recorder import SessionRecorder
from galaxy_chat.core.limits import BUSY, LeaseLost, SendRefused, admit_across_replicas, clean_message
from galaxy_chat.core.session_listeners import SessionListeners
from galaxy_chat.core.session_log import SessionLog
from galaxy_chat.core.tool_io import Questions
from galaxy_chat.core.turn import Listener, SessionRules, Turn
from galaxy_chat.core.turn_events import turn_events
from galaxy_chat.observability import tracing
from galaxy_chat.observability.log_format import current_session
from galaxy_chat.vocabulary.attachments import Attachment
from galaxy_chat.vocabulary.events import Done, Error, Event, Usage
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import CallTool
from tools.tool_registry import BoundTools

log = logging.getLogger(__name__)

class ChatSession:
    def __init__(self, engine: ChatEngine, user: User, model: str, tools: Callable[[str, list[str]], BoundTools],
                 rules: SessionRules, *, tool_names: list[str], source_names: list[str] | None = None,
                 origin: str = "page", restored: tuple[Conversation, list[Turn]] | None = None,
                 recorder: SessionRecorder | None = None) -> None:
        """`restored`: a stored chat opened again (its model history and turns); `recorder`: where its turns
        are written to the history."""
        self.engine = engine
        self.user = user
        self.rules = rules
        self.recorder = recorder
        self.last_active = time.monotonic()
        self.conversation: Conversation = restored[0] if restored else engine.new_conversation(user.email, origin)
        self.model = model
        self.tool_names = list(tool_names)
        self.source_names = list(source_names or [])
        self.started_at = datetime.now(UTC)
        self.turns: list[Turn] = list(restored[1]) if restored else []
        self._bind_tools = tools
        self._bound: BoundTools | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_there: Callable[[], None] | None = None  # Stop of a reply followed from another replica
        self.questions = Questions()  # what running tools have asked the person
        self.listeners = SessionListeners(self.id)  # the page showing it, other subscribers, title listeners

    @property
    def id(self) -> str:
        return self.conversation.session_id

    @property
    def locked(self) -> bool:
        """Tools and data sources are fixed once the first message is sent (a new chat unlocks them)."""
        return bool(self.turns)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def log(self) -> SessionLog:
        return self.engine.log_for(self.conversation)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.listeners.subscribe(listener)

    def attach(self, listener: Listener, on_moved: Callable[[], None],
               on_title: Callable[[str], None] | None = None) -> Callable[[], None]:
        """Make `listener` the page that shows the session; the page shown before is told it moved.

        Call it in the same synchronous step as rendering `turns`: no event can slip in between.
        """
        self.last_active = time.monotonic()
        return self.listeners.attach(listener, on_moved, on_title)

    @property
    def attached(self) -> bool:
        return self.listeners.shown

    def choose(self, tool_names: list[str], source_names: list[str]) -> None:
        """Set the tools and data sources; only before the first message, and only permitted ones."""
        if self.locked and (tool_names != self.tool_names or source_names != self.source_names):
            raise SendRefused("Tools and data sources are fixed for this chat: start a New chat to change them.",
                              "locked")
        refused = [n for n in tool_names if not self.rules.can_use("tool", n)] + [
            n for n in source_names if not self.rules.can_use("data_source", n)]
        if refused:
            raise SendRefused(f"Not available to you: {', '.join(refused)}.")
        self.tool_names, self.source_names = list(tool_names), list(source_names)

    def switch_model(self, model: str) -> None:
        """Continue the same conversation with another model (logged when the chat has begun)."""
        if not self.rules.can_use("model", model):
            raise SendRefused(f"The model {model} is not available to you.")
        if model != self.model and self.turns:
            self.log.write("model_switch", previous=self.model, model=model)
        self.model = model

    def tools(self) -> BoundTools:
        if self._bound is None:
            self._bound = self._bind_tools(self.id, self.tool_names)
        return self._bound

    def send(self, text: str, action: CallTool | None = None, attachments: Sequence[Attachment] = ()) -> Turn:
        """Start answering `text` (or running `action`) in the background, with the files attached (already
        uploaded to this chat); listeners receive every event.

        Raises SendRefused (a sentence for the person) when a limit or a permission says no.
        """
        text = self._admit(text, action)
        return self._start(Turn(text=text, model=self.model, action=action, attachments=list(attachments)))

    def regenerate(self, model: str | None = None) -> Turn:
        """Answer the last message again (with `model` when given); the reply it replaces stays a version."""
        last = self._last_turn()
        if model and model != self.model:
            self.switch_model(model)
        text = self._admit(last.text, last.action)
        return self._start(self._replacing(last, text, last.action))

    def edit(self, text: str) -> Turn:
        """Send the last message again, changed; the turn it replaces stays a version."""
        last = self._last_turn()
        return self._start(self._replacing(last, self._admit(text, None), None))

    def _last_turn(self) -> Turn:
        if not self.turns:
            raise SendRefused("There is no message to answer again yet.", "empty")
        if self.busy:
            raise SendRefused("A reply is still being written: wait for it or press Stop.", "busy")
        return self.turns[-1]

    def _replacing(self, last: Turn, text: str, action: CallTool | None) -> Turn:
        self.turns.pop()
        self.conversation.truncate(last.history_start)  # the model hears the new version only
        return Turn(text=text, model=self.model, action=action, attachments=last.attachments,
                    earlier=[*last.earlier, replace(last, earlier=[])])

    def _admit(self, text: str, action: CallTool | None) -> str:
        """The text as it may be sent, after every check (SendRefused when one says no)."""
        if self.busy:
            raise SendRefused("A reply is still being written: wait for it or press Stop.", "busy")
        if self.rules.slots.busy(self.user.email):
            raise SendRefused(BUSY, "busy")
        if action is None:
            text = clean_message(text, self.rules.max_chars)
            if not is_command(text) and not self.rules.can_use("model", self.model):
                raise SendRefused(f"The model {self.model} is not available to you." if self.model else
                                  "No language model is set up yet: commands such as /help work without one "
                                  "(see Models in the README).")
        self.rules.limiter.check(self.user.email)
        return text

    def _start(self, turn: Turn) -> Turn:
        release = self.rules.slots.claim(self.user.email)
        self.last_active = time.monotonic()
        turn.history_start = len(self.conversation.messages)
        if not self.turns:
            self.log.write("session_settings", model=self.model, tools=self.tool_names, data_sources=self.source_names)
        self.turns.append(turn)
        if self.recorder is not None:  # the person's message is saved before the model is called
            self.recorder.turn_started(self, turn)
        self._notify(turn, None)
        self._task = asyncio.create_task(self._admitted(turn), name=f"reply-{self.id}-{turn.id}")
        self._task.add_done_callback(lambda _: release())
        return turn

    def stop(self) -> None:
        """Stop the running reply; the partial text is kept and the turn still ends with Done(stopped=True)."""
        if self.busy and self._task is not None:
            if self._stop_there is not None:  # it runs on another replica: asked there, its Done comes here
                self._stop_there()
            elif self.turns[-1].direct or not self.engine.is_busy(self.conversation):
                self._task.cancel()  # a command, or a reply still being prepared (checks, passages, files)
            else:
                self.engine.stop(self.conversation)

    def follow(self, turn: Turn, events: AsyncIterator[Event], stop_there: Callable[[], None]) -> None:
        """Show `turn`, answered and recorded on another replica, as its events come; once it ended the chat
        continues here with it in the model's history."""
        self._stop_there = stop_there
        self._task = asyncio.create_task(self._followed(turn, events), name=f"follow-{self.id}-{turn.id}")

    async def _followed(self, turn: Turn, events: AsyncIterator[Event]) -> None:
        try:
            async for event in events:
                turn.events.append(event)
                self._notify(turn, event)
        finally:
            self._stop_there, turn.remote = None, False
            if not turn.direct:
                self.conversation.truncate(turn.history_start)
                replay_turn(self.conversation, turn.text, turn.events)
            if self.recorder is not None:
                self.recorder.last = turn.reply_message_id

    def retitled(self, title: str) -> None:
        self.listeners.retitled(title)

    def answer(self, question_id: str, action: str, content: dict[str, Any] | None) -> bool:
        """The person's answer to a running tool's question (a form); False when it is no longer open."""
        self.last_active = time.monotonic()
        return self.questions.answer(question_id, action, content)

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    def close(self) -> None:
        self.stop()
        self.engine.end_conversation(self.conversation)

    def files(self) -> ConversationFiles | None:
        return self.rules.files(self.id) if self.rules.files is not None else None

    async def _admitted(self, turn: Turn) -> None:
        """Across replicas (REDIS_URL) the rate and one run at a time are checked first; refused, the turn ends."""
        try:
            held = await admit_across_replicas(self.rules.slots, self.rules.limiter, self.user.email)
        except SendRefused as refusal:
            self._publish(turn, Error(str(refusal), kind=refusal.kind))
            self._publish(turn, Done(Usage(), 0.0, None, 0))
            return
        except asyncio.CancelledError:  # Stop while the shared checks ran
            self._publish(turn, Done(Usage(), 0.0, None, 0, stopped=True))
            return
        try:
            await self._run(turn, held)
        finally:
            if held is not None:
                await held.release()

    async def _run(self, turn: Turn, held: HeldLease | None = None) -> None:
        direct = turn.direct  # logged here: the engine logs only what a model answers
        current_session.set(self.id)  # this task's log lines name the session (LOG_FORMAT=json)
        log.info("turn %s: %s", turn.id, "a command" if direct else f"a reply of {turn.model or '(no model)'}")
        try:
            if turn.attachments and turn.user_message_id and (files := self.files()) is not None:
                await files.attached_to(turn.user_message_id, turn.attachments)
            with tracing.reply_span(self.id, "command" if direct else "model") as span:
                async for event in turn_events(self, turn):
                    if held is not None and held.lost:  # fenced: a newer run of this person's has the lease
                        raise LeaseLost
                    if direct:
                        self.log.event(event)
                    elif type(event) is Error:
                        tracing.mark_error(span, event.kind)
                    self._publish(turn, event)
        except asyncio.CancelledError:
            self._publish(turn, Done(Usage(), 0.0, None, 0, stopped=True))
        except LeaseLost:  # written no further (the history shows it interrupted); this page hears why
            log.warning("reply %s in session %s lost its lease: it stops writing", turn.id, self.id)
            if self.recorder is not None:
                self.recorder.abandon(turn)
            for event in (Error(LeaseLost.MESSAGE, kind="interrupted"), Done(Usage(), 0.0, None, 0, stopped=True)):
                turn.events.append(event)
                self._notify(turn, event)
        except Exception as exc:  # the engine turns faults into events; this is the last safety net
            log.exception("reply %s in session %s failed", turn.id, self.id)
            self.log.write("error", message=str(exc), traceback=traceback.format_exc())
            self._publish(turn, Error("Something went wrong on the server while answering.", kind="internal"))
            self._publish(turn, Done(Usage(), 0.0, None, 0))

    def _publish(self, turn: Turn, event: Event) -> None:
        turn.events.append(event)
        if self.recorder is not None:
            self.recorder.event(turn, event)
        self._notify(turn, event)

    def _notify(self, turn: Turn, event: Event | None) -> None:
        self.listeners.notify(turn, event)
