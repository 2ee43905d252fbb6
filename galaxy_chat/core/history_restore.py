"""A stored conversation back as a live chat: its turns (events decoded by the one codec, earlier versions
included) and the model's history rebuilt from them, so it renders as it was and continues with its context.

A reply that has no end (the process writing it died) comes back marked interrupted, with an error the
person can retry from, never silently cut.
"""

from __future__ import annotations

from galaxy_chat.core.conversation import Conversation
from galaxy_chat.core.history import History
from galaxy_chat.core.history_rebuild import replay_turn
from galaxy_chat.core.history_recorder import ACTION_PART, ATTACHMENTS_PART
from galaxy_chat.core.turn import Turn
from galaxy_chat.store import ConversationView, MessageStatus, StoredMessage
from galaxy_chat.vocabulary.attachments import Attachment
from galaxy_chat.vocabulary.event_json import decode
from galaxy_chat.vocabulary.events import Done, Error, Event, Usage
from galaxy_chat.vocabulary.widgets import CallTool

INTERRUPTED = "This reply was interrupted: the server stopped before it was finished. Retry to answer again."


def turn_of(user: StoredMessage, reply: StoredMessage | None) -> Turn:
    events: list[Event] = []
    action: CallTool | None = None
    attachments: list[Attachment] = []
    for part in reply.parts if reply is not None else []:
        if part.get("type") == ACTION_PART:
            action = CallTool.model_validate({key: value for key, value in part.items() if key != "type"})
        elif part.get("type") == ATTACHMENTS_PART:
            attachments = [Attachment.model_validate(file) for file in part.get("files", [])]
        elif (event := decode(part)) is not None:
            events.append(event)
    if reply is None or reply.status in (MessageStatus.INTERRUPTED, MessageStatus.STREAMING):
        events += [Error(INTERRUPTED, kind="interrupted"), Done(Usage(), 0.0, None, 0, stopped=True)]
    turn = Turn(text=user.text, model=(reply.model if reply is not None else user.model), at=user.created_at,
                events=events, action=action, attachments=attachments)
    turn.user_message_id, turn.parent_message_id = user.id, user.parent_id
    turn.reply_message_id = reply.id if reply is not None else None
    return turn


def pairs(messages: list[StoredMessage]) -> list[tuple[StoredMessage, StoredMessage | None]]:
    """The thread as (person's message, its reply) pairs; a message without its reply gets None."""
    found: list[tuple[StoredMessage, StoredMessage | None]] = []
    for message in messages:
        if message.role == "user":
            found.append((message, None))
        elif found and found[-1][1] is None:
            found[-1] = (found[-1][0], message)
    return found


async def earlier_versions(history: History, owner: str, conversation_id: str, user: StoredMessage,
                           reply: StoredMessage | None) -> list[Turn]:
    """The versions a turn replaced: other answers to the same message, then earlier edits of the message
    (each with its newest answer), oldest first."""
    earlier: list[Turn] = []
    for user_id in user.versions:
        if user_id == user.id:
            continue
        view = await history.load(owner, conversation_id, chosen=[user_id])
        if view is not None and (found := [p for p in pairs(view.messages) if p[0].id == user_id]):
            earlier.append(turn_of(*found[0]))
    for reply_id in reply.versions if reply is not None else ():
        if reply_id != reply.id and (other := await history.message(owner, reply_id)) is not None:
            earlier.append(turn_of(user, other))
    return earlier


async def restore(history: History, owner: str, view: ConversationView, system_prompt: str) -> tuple[
        Conversation, list[Turn]]:
    """The model's history and the turns of a stored conversation, ready for `ChatSession(restored=...)`."""
    conversation = Conversation(system_prompt, session_id=view.meta.id, user=owner)
    turns: list[Turn] = []
    for user, reply in pairs(view.messages):
        turn = turn_of(user, reply)
        if len(user.versions) > 1 or (reply is not None and len(reply.versions) > 1):
            turn.earlier = await earlier_versions(history, owner, view.meta.id, user, reply)
        turn.history_start = len(conversation.messages)
        if not turn.direct:
            replay_turn(conversation, turn.text, turn.events)
        turns.append(turn)
    return conversation, turns
