"""A file the person sent with a message, as the chat, its history and the page know it (the bytes stay in
the uploads folder; this is what names them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

FileKind = Literal["table", "document", "image", "text", "other"]


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str  # the name the person's browser gave, cleaned; never a path
    kind: FileKind
    mime: str  # decided from the content, not from the name
    size: int
    summary: str = ""  # what the chip shows, e.g. "12,840 rows, 9 columns" or "12 pages"
    tables: list[str] = []  # a table file's tables in the chat's database, for /sql
