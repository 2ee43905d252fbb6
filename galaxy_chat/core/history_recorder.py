"""One chat session's writes to the history, as its turns happen: the conversation at its first message, then
for each turn the person's message (before the model is called), and the reply's events as the one codec
encodes them (streamed text gathered by the writer, written at least every second). Every call returns at
once: the writer queues it for its own thread.

A turn that replaces the last one (regenerate, edit) is written as a newer version of the message it replaces,
so the earlier one stays reachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from galaxy_chat.store.writer import HistoryWriter, Reply
from galaxy_chat.vocabulary.event_json import encode
from galaxy_chat.vocabulary.events import Done, Event, TextDelta, ToolCallLog, ToolCallProgress

if TYPE_CHECKING:
    from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.turn import Turn

TITLE_CHARS = 60
ACTION_PART = "turn_action"  # the first part of a reply to a widget's button: which tool, with what
ATTACHMENTS_PART = "attachments"  # the first part of a reply to a message sent with files: which files
NOT_KEPT = (ToolCallProgress, ToolCallLog)  # shown while running (or only logged): not part of the record


def title_from(text: str) -> str:
    """A chat's first title: the first line of its first message, shortened (the person may rename it)."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else "New chat"
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class SessionRecorder:
    def __init__(self, writer: HistoryWriter, owner: str, conversation_id: str, last_message: str | None) -> None:
        self.writer = writer
        self.owner = owner
        self.conversation_id = conversation_id
        self.created = last_message is not None  # continuing a stored conversation
        self.last = last_message  # the newest message of the thread: the next one follows it
        self.replies: dict[str, Reply] = {}  # turn id -> its reply being written

    def turn_started(self, session: ChatSession, turn: Turn) -> None:
        if not self.created:
            self.writer.conversation_created(
                self.owner, self.conversation_id, title=title_from(turn.text), models=[turn.model],
                tools=session.tool_names, data_sources=session.source_names)
            self.created = True
        replaced = turn.earlier[-1] if turn.earlier else None
        if replaced is not None and replaced.text == turn.text and replaced.user_message_id:  # regenerate
            turn.user_message_id, turn.parent_message_id = replaced.user_message_id, replaced.parent_message_id
        else:  # a new message, or an edit: a newer version of the one replaced
            turn.parent_message_id = replaced.parent_message_id if replaced is not None else self.last
            turn.user_message_id = self.writer.user_message(
                self.owner, self.conversation_id, turn.text, model=turn.model, after=turn.parent_message_id,
                replaces=replaced.user_message_id if replaced is not None else None)
        replaces = replaced.reply_message_id if replaced is not None and replaced.text == turn.text else None
        reply = self.writer.reply_started(self.owner, self.conversation_id, model=turn.model,
                                          after=turn.user_message_id, replaces=replaces)
        turn.reply_message_id = self.last = reply.id
        self.replies[turn.id] = reply
        if turn.action is not None:
            reply.part({"type": ACTION_PART, **turn.action.model_dump(mode="json")})
        if turn.attachments:
            reply.part({"type": ATTACHMENTS_PART, "files": [file.model_dump(mode="json") for file in turn.attachments]})

    def abandon(self, turn: Turn) -> None:
        """Write no more of `turn`'s reply (its writer lost the right to): it reads as interrupted once its
        writing lease lapses."""
        self.replies.pop(turn.id, None)

    def event(self, turn: Turn, event: Event) -> None:
        reply = self.replies.get(turn.id)
        if reply is None:
            return
        if type(event) is TextDelta:  # the hot path: one append, the writer gathers the text
            reply.text(event.text)
        elif isinstance(event, Done):
            reply.finish(encode(event))
            del self.replies[turn.id]
        elif not isinstance(event, NOT_KEPT):
            reply.part(encode(event))
