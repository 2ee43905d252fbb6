"""The chat engine: a person's message in, a stream of events out (model calls, the tool loop, faults).

Every producer (the model's stream, each running tool, the status ticker) runs as a task feeding one
queue (reply.py); the reply generator reads that queue, so it can report "still working" while nothing arrives and
cancel everything at once when the person stops. Nothing here knows about the page or the wire format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path

from galaxy_chat.core.conversation import Conversation
from galaxy_chat.core.reply import ProviderLookup, Reply
from galaxy_chat.core.session_log import SessionLog
from galaxy_chat.core.system_prompt import DEFAULT_PATH, load_system_prompt
from galaxy_chat.core.tool_io import Questions
from galaxy_chat.core.tool_runner import ToolRunner
from galaxy_chat.llm.messages import ImagePart
from galaxy_chat.observability.replies import ReplyWatch
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.events import (
    Done,
    Error,
    Event,
    TextDelta,
    Usage,
)

SessionLogFactory = Callable[[str], SessionLog]  # session id -> its log, e.g. SessionLogs.open

BUSY = "A reply is still being written in this conversation: wait for it or stop it first."



class ChatEngine:
    def __init__(
        self, settings: Settings, provider_for: ProviderLookup, tools: ToolRunner,
        session_log: SessionLogFactory, *, system_prompt_path: Path = DEFAULT_PATH,
    ) -> None:
        self.settings = settings
        self.tools = tools
        self._provider_for = provider_for
        self._session_log = session_log
        self._system_prompt_path = system_prompt_path
        self._logs: dict[str, SessionLog] = {}
        self._running: dict[str, Reply] = {}

    def system_prompt(self) -> str:
        return load_system_prompt(self.settings, self._system_prompt_path)

    def new_conversation(self, user: str = "", origin: str = "page") -> Conversation:
        # The log opens with the first line written: a page opened and left, or a refused command, leaves none.
        return Conversation(load_system_prompt(self.settings, self._system_prompt_path), user=user, origin=origin)

    def end_conversation(self, conversation: Conversation) -> None:
        """The page is gone: stop a running reply and write the session's last line."""
        self.stop(conversation)
        log = self._logs.pop(conversation.session_id, None)
        if log is not None:
            log.write("session_end", messages=len(conversation.messages),
                      interrupted=len(conversation.interrupted))

    def stop(self, conversation: Conversation) -> bool:
        """Stop the running reply (the Stop button); its generator still ends with Done(stopped=True)."""
        reply = self._running.get(conversation.session_id)
        if reply is not None:
            reply.request_stop()
        return reply is not None

    def is_busy(self, conversation: Conversation) -> bool:
        return conversation.session_id in self._running

    async def respond(
        self, conversation: Conversation, user_text: str, model_name: str, *, tools: ToolRunner | None = None,
        questions: Questions | None = None, images: list[ImagePart] | None = None,
    ) -> AsyncIterator[Event]:
        """Add `user_text`, ask `model_name` (running tools as it asks), and yield what happens, ending with
        Done. `tools` overrides the engine's runner for this reply (e.g. the tools this person may use);
        `questions` is where the person's answers to the tools' questions arrive (ChatSession.answer);
        `images` go with the message to a model that can see them."""
        log = self.log_for(conversation)
        session_id = conversation.session_id
        if session_id in self._running:
            log.write("busy", text=user_text, model=model_name)
            yield Error(BUSY, kind="busy")
            yield Done(Usage(), 0.0, None, 0)
            return
        reply = Reply(self.settings, conversation, log, tools or self.tools, self._running.__len__,
                       questions or Questions())
        self._running[session_id] = reply
        watch = ReplyWatch(model_name)
        try:
            # aclosing: when our consumer closes us, the inner generator must clean up now, not at GC time.
            async with aclosing(reply.run(user_text, model_name, self._provider_for, images or [])) as events:
                async for event in events:
                    if type(event) is not TextDelta:  # metrics at event boundaries, never per token
                        watch.see(event)
                    yield event
        finally:
            watch.close()
            self._running.pop(session_id, None)

    def log_for(self, conversation: Conversation) -> SessionLog:
        """The session's log (opened, with its session_start line, on first use)."""
        log = self._logs.get(conversation.session_id)
        if log is None:
            log = self._logs[conversation.session_id] = self._session_log(conversation.session_id)
            log.write("session_start", user=conversation.user, origin=conversation.origin,
                      system_prompt=conversation.system_prompt,
                      max_tool_rounds=self.settings.max_tool_rounds)
        return log


