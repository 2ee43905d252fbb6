"""One chat: its unguessable session id, its system prompt and the full history the model has seen."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from galaxy_chat.llm.messages import Message


class Interruption(StrEnum):
    STOPPED = "stopped"  # the person pressed Stop (or the page went away)
    FAULT = "fault"  # the model's stream broke after some text had arrived


def new_session_id() -> str:
    # The id names the log file and may appear in URLs: it must not be guessable.
    return secrets.token_urlsafe(16)


@dataclass
class Conversation:
    """`messages` is the whole history without the system prompt, which is kept apart so trimming never
    touches it and it is always first in a request. Partial replies stay in the history (the model sees
    what the person saw) and are listed in `interrupted` by their index in `messages`."""

    system_prompt: str
    session_id: str = field(default_factory=new_session_id)
    messages: list[Message] = field(default_factory=list)
    interrupted: dict[int, Interruption] = field(default_factory=dict)
    user: str = ""  # who is chatting (email), for the session log
    origin: str = "page"  # where it was started: "page", or "api" for a command over HTTP

    def add(self, message: Message, interruption: Interruption | None = None) -> None:
        self.messages.append(message)
        if interruption is not None:
            self.interrupted[len(self.messages) - 1] = interruption

    def truncate(self, length: int) -> None:
        """Take back the messages from `length` on (a turn that is answered again)."""
        del self.messages[length:]
        self.interrupted = {index: how for index, how in self.interrupted.items() if index < length}

    def interruption(self, index: int) -> Interruption | None:
        """Why the message at `index` is partial, or None when it is complete."""
        return self.interrupted.get(index)

    @property
    def system_message(self) -> Message:
        return Message("system", self.system_prompt)
