"""A turn of a chat (the person's message and everything that answered it) and the rules every session keeps."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from access.policy import Kind
from galaxy_chat.core.commands import ServerSummary, is_command
from galaxy_chat.core.limits import RateLimiter, RunSlots
from galaxy_chat.vocabulary.attachments import Attachment
from galaxy_chat.vocabulary.events import Done, Event
from galaxy_chat.vocabulary.passages import Passage
from galaxy_chat.vocabulary.widgets import CallTool

if TYPE_CHECKING:
    from galaxy_chat.core.chat_files import FilesFor

Listener = Callable[["Turn", Event | None], None]  # None: the turn has just started
# (question, source ids) -> (passages, the context block for the model)
Retrieve = Callable[[str, list[str]], Awaitable[tuple[list[Passage], str]]]


@dataclass
class Turn:
    """One message of the person and everything that answered it."""

    text: str
    model: str
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    events: list[Event] = field(default_factory=list)
    action: CallTool | None = None  # a tool the person called directly (a widget's button), not a message
    attachments: list[Attachment] = field(default_factory=list)  # the files sent with the message
    earlier: list[Turn] = field(default_factory=list)  # the versions it replaced (regenerate, edit), oldest first
    history_start: int = 0  # where its messages begin in the model's history (what a new version takes back)
    # Its place in the history store (set as it is recorded, or when a stored chat is opened again):
    user_message_id: str | None = None
    reply_message_id: str | None = None
    parent_message_id: str | None = None  # the message it follows (None: the chat's first)
    remote: bool = False  # being answered on another replica: shown here as it comes, written there

    @property
    def finished(self) -> bool:
        return bool(self.events) and isinstance(self.events[-1], Done)

    @property
    def versions(self) -> list[Turn]:
        """Every version of this turn, oldest first, this one last (the page shows "< i/n >")."""
        return [*self.earlier, self]

    @property
    def direct(self) -> bool:
        """Run by the person without a model (a /command or a widget's button), not answered by a model."""
        return self.action is not None or is_command(self.text)


@dataclass(frozen=True)
class SessionRules:
    """What the server enforces on every session, whatever the page does."""

    can_use: Callable[[Kind, str], bool]  # the access policy, for this user
    limiter: RateLimiter
    max_chars: int
    slots: RunSlots  # one run at a time per person, shared by all their sessions
    retrieve: Retrieve | None = None  # passages from the chosen data sources (checked against the policy)
    servers: ServerSummary | None = None  # the /mcp answer for this person
    files: FilesFor | None = None  # a chat's attached files, by conversation id (None: no uploads)
    vision: Callable[[str], bool] = lambda _model: False  # whether a model can see images
    document_passages: int = 4  # passages from the chat's documents given with a message
