"""One chat's attached files, as the chat uses them: what the model is told when files come with a message
(the tables' schema and first rows, where each file is for the tools), the images a model that can see is
sent, and the document passages that answer a question.

The bytes and their processing are galaxy_chat/files'; this is what a conversation asks of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from galaxy_chat.files import StoredFile, Uploads
from galaxy_chat.llm.messages import ImagePart
from galaxy_chat.vocabulary.attachments import Attachment
from galaxy_chat.vocabulary.passages import Passage

log = logging.getLogger(__name__)

DOCUMENT_KINDS = ("document", "text")


def attachment_of(file: StoredFile) -> Attachment:
    """A stored file as the chat, its history and the page name it."""
    return Attachment(id=file.id, name=file.name, kind=file.kind, mime=file.mime, size=file.size,  # type: ignore[arg-type]
                      summary=Uploads.chip(file), tables=table_names(file))


def table_names(file: StoredFile) -> list[str]:
    return [str(table["name"]) for table in file.meta.get("tables", []) if isinstance(table, dict)]


@dataclass
class Prepared:
    """What a message's files add to it for the model."""

    text: str  # the message as the model reads it: the files block first, then the person's words
    images: list[ImagePart] = field(default_factory=list)
    notice: str = ""  # something the person should know (the model cannot see the images)


class ConversationFiles:
    """A chat's files for one owner and conversation, as the chat uses them (the tools get theirs from
    `Uploads.for_chat`)."""

    def __init__(self, uploads: Uploads, owner: str, conversation_id: str) -> None:
        self.uploads = uploads
        self.owner = owner
        self.conversation_id = conversation_id

    async def files(self, ids: list[str]) -> list[StoredFile]:
        """The chat's files with these ids, in that order (others' and unknown ids are left out)."""
        found = {file.id: file for file in await self.uploads.list_files(self.owner, self.conversation_id)}
        return [found[file_id] for file_id in ids if file_id in found]

    async def prepare(self, text: str, attachments: list[Attachment], *, model: str, vision: bool) -> Prepared:
        """The message with its files as the model is given them."""
        if not attachments:
            return Prepared(text)
        files = await self.files([attachment.id for attachment in attachments])
        lines = ["[Files the person attached to this message]"]
        for file in files:
            lines.append(f"- {file.name} ({file.kind}, {file.mime}, {file.size:,} bytes): " + _use_of(file))
        tables = await self.uploads.tables_context(self.owner, self.conversation_id)
        if tables:
            lines += ["", tables]
        images, notice = [], ""
        shown = [file for file in files if file.kind == "image"]
        if shown and vision:
            images = [ImagePart(file.mime, await self.uploads.read_bytes(file)) for file in shown]
        elif shown:
            notice = f"{model or 'This model'} cannot see images: it was told the image's name only."
        return Prepared("\n".join(lines) + "\n\n" + text, images, notice)

    async def retrieve(self, question: str, limit: int) -> list[Passage]:
        """The chat's document passages that best answer `question` (none when it has no documents)."""
        return await self.uploads.retrieve(self.owner, self.conversation_id, question, limit)

    async def attached_to(self, message_id: str, attachments: list[Attachment]) -> None:
        """Record which message the files came with."""
        try:
            await self.uploads.store.attach_files(self.owner, [file.id for file in attachments], message_id)
        except Exception:  # the files stay in the chat; only their link to the message is missing
            log.exception("files could not be linked to message %s", message_id)


def _use_of(file: StoredFile) -> str:
    if file.kind == "table":
        names = ", ".join(f"`{name}`" for name in table_names(file))
        return (f"{Uploads.chip(file)}; query it with sql_query as table {names}, or read data/{file.name} "
                "in python.")
    if file.kind in DOCUMENT_KINDS:
        return "searchable: passages that answer the person's questions are given with their messages; " \
               f"python reads it as data/{file.name}."
    if file.kind == "image":
        return f"an image ({Uploads.chip(file)}); python reads it as data/{file.name}."
    return f"python reads it as data/{file.name}."


FilesFor = Callable[[str], ConversationFiles | None]  # conversation id -> its files (None: no uploads here)
