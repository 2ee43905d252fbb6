"""What a person's message takes to the model besides its words: passages from the chosen data sources and
from the chat's documents, the attached files (tables described, images for a model that can see), and what
the person should be told about it. Computed once per message, before the model is called.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from galaxy_chat.core.chat_files import ConversationFiles
from galaxy_chat.core.session_log import SessionLog
from galaxy_chat.core.turn import SessionRules, Turn
from galaxy_chat.data import context_block
from galaxy_chat.llm.messages import ImagePart
from galaxy_chat.observability import tracing
from galaxy_chat.vocabulary.events import Event, Notice, Sources
from galaxy_chat.vocabulary.passages import Passage

log = logging.getLogger(__name__)


@dataclass
class MessageContext:
    text: str  # the message as the model reads it
    images: list[ImagePart] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # shown before the reply: the sources, a notice


async def message_context(turn: Turn, rules: SessionRules, files: ConversationFiles | None, source_names: list[str],
                          log_: SessionLog) -> MessageContext:
    context = MessageContext(turn.text)
    if files is not None and turn.attachments:
        try:
            prepared = await files.prepare(turn.text, turn.attachments, model=turn.model,
                                           vision=rules.vision(turn.model))
        except Exception:  # the message still goes, without the files' description
            log.exception("the files of turn %s could not be prepared", turn.id)
        else:
            context.text, context.images = prepared.text, prepared.images
            if prepared.notice:
                context.events.append(Notice(prepared.notice))
    with tracing.span("retrieval", **{"galaxy_chat.sources": len(source_names)}):
        passages = await _passages(turn.text, rules, files, source_names)
    if source_names or passages:
        log_.write("retrieval", sources=source_names, passages=[
            p.model_dump(include={"source_id", "title", "location", "score"}) for p in passages])
    if passages:
        context.events.insert(0, Sources(passages))
        context.text = f"{context_block(passages)}\n\n{context.text}"
    return context


async def _passages(question: str, rules: SessionRules, files: ConversationFiles | None,
                    source_names: list[str]) -> list[Passage]:
    """Retrieval can fail: answering without the passages beats not answering."""
    passages: list[Passage] = []
    if source_names and rules.retrieve is not None:
        try:
            passages += (await rules.retrieve(question, source_names))[0]
        except Exception:
            log.exception("retrieval from %s failed", source_names)
    if files is not None:
        try:
            passages += await files.retrieve(question, rules.document_passages)
        except Exception:
            log.exception("retrieval from the chat's documents failed")
    return passages
