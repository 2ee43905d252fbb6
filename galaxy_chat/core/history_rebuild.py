"""A conversation's model history rebuilt from its turns' events, so a chat opened again continues with the
context the model had: the same messages, in the same order, that the engine added while it answered.

The events say everything needed: the person's text (with the passages given to the model, from `Sources`),
the model's text, each tool call (its calls come together, announced before their results) and each result.
A reply cut short keeps what the person saw, as the engine keeps it; tools that never finished are answered
as cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable

from galaxy_chat.core.conversation import Conversation, Interruption
from galaxy_chat.core.reply import CANCELLED_TOOL
from galaxy_chat.data.retrieval import context_block
from galaxy_chat.llm.messages import Message
from galaxy_chat.vocabulary.events import Done, Error, Event, Sources, TextDelta, ToolCallFinished, ToolCallStarted
from galaxy_chat.vocabulary.tool_calls import ToolCall

NOT_A_FAULT = frozenset({"max_tool_rounds", "busy"})  # errors after which the reply's text is whole


class _Replay:
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.text: list[str] = []
        self.calls: list[ToolCall] = []  # the open group of tool calls
        self.results: dict[str, ToolCallFinished] = {}

    def close_calls(self, interruption: Interruption) -> None:
        if not self.calls:
            return
        self.conversation.add(Message("assistant", "".join(self.text), tool_calls=list(self.calls)))
        self.text = []
        for call in self.calls:
            result = self.results.get(call.id)
            if result is None:
                self.conversation.add(Message("tool", CANCELLED_TOOL, tool_call_id=call.id, name=call.name,
                                              is_error=True), interruption)
            else:
                self.conversation.add(Message("tool", result.text, tool_call_id=call.id, name=call.name,
                                              is_error=result.is_error))
        self.calls, self.results = [], {}

    def close_text(self, interruption: Interruption | None) -> None:
        if text := "".join(self.text):
            self.conversation.add(Message("assistant", text), interruption)
        self.text = []

    def event(self, event: Event) -> bool:
        """Apply one event; True when the reply has ended."""
        if isinstance(event, TextDelta):
            self.close_calls(Interruption.STOPPED)
            self.text.append(event.text)
        elif isinstance(event, ToolCallStarted):
            if self.calls and self.results:  # a new round's calls: the previous round is complete
                self.close_calls(Interruption.STOPPED)
            self.calls.append(ToolCall(event.call_id, event.name, event.arguments))
        elif isinstance(event, ToolCallFinished):
            self.results[event.call_id] = event
        elif isinstance(event, Error) and event.kind not in NOT_A_FAULT:
            self.close_calls(Interruption.FAULT)
            self.close_text(Interruption.FAULT)
        elif isinstance(event, Done):
            how = Interruption.STOPPED if event.stopped else None
            self.close_calls(how or Interruption.STOPPED)
            self.close_text(how)
            return True
        return False


def replay_turn(conversation: Conversation, text: str, events: Iterable[Event]) -> None:
    """Add one model-answered turn to `conversation` as the engine did; a turn without its Done (the process
    died) ends as a fault at the last event."""
    events = list(events)
    passages = next((event.passages for event in events if isinstance(event, Sources)), [])
    block = context_block(passages)
    conversation.add(Message("user", f"{block}\n\n{text}" if block else text))
    replay = _Replay(conversation)
    for event in events:
        if replay.event(event):
            return
    replay.close_calls(Interruption.FAULT)
    replay.close_text(Interruption.FAULT)
