"""What answers a turn: a tool the person called, a /command, or the model given the message with its context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING

from galaxy_chat.core.commands import is_command, run_command, tool_call_events
from galaxy_chat.core.message_context import message_context
from galaxy_chat.core.turn import Turn
from galaxy_chat.vocabulary.events import Event

if TYPE_CHECKING:
    from galaxy_chat.core.chat_session import ChatSession


def turn_events(session: ChatSession, turn: Turn) -> AsyncIterator[Event]:
    if turn.action is not None:
        session.log.write("tool_action", tool=turn.action.tool, arguments=turn.action.arguments)
        return tool_call_events(session.tools(), turn.action.tool, turn.action.arguments, session.questions)
    if is_command(turn.text):
        session.log.write("command", text=turn.text)
        return run_command(turn.text, session.tools(), session.questions, session.rules.servers)
    return model_events(session, turn)


async def model_events(session: ChatSession, turn: Turn) -> AsyncIterator[Event]:
    """The message with its context (passages, files), then the engine's answer."""
    context = await message_context(turn, session.rules, session.files(), session.source_names, session.log)
    for event in context.events:
        session.log.event(event)
        yield event
    reply = session.engine.respond(session.conversation, context.text, turn.model, tools=session.tools(),
                                   questions=session.questions, images=context.images)
    async with aclosing(reply) as events:
        async for event in events:
            yield event
