"""The one abstract base class every tool subclasses, what it is given, and what it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, Field, ValidationError

from galaxy_chat.vocabulary.tool_calls import ToolSpec
from galaxy_chat.vocabulary.widgets import Widget

if TYPE_CHECKING:
    from access.policy import Policy
    from galaxy_chat.settings import Settings
    from galaxy_chat.vocabulary.users import User


class ToolResult(BaseModel):
    """`text` goes back to the model; `widgets` are shown to the person; `detail` only goes to the log."""

    text: str
    widgets: list[Widget] = Field(default_factory=list)
    is_error: bool = False
    reduced_isolation: bool = False  # the tool ran with weaker sandboxing than intended
    detail: str = Field("", exclude=True, description="Internal detail (e.g. a traceback) for the session log.")

    @classmethod
    def error(cls, text: str, detail: str = "") -> ToolResult:
        return cls(text=text, is_error=True, detail=detail)


class CallIO(Protocol):
    """A running call's line to the person: progress to show, and a form to fill in (both optional to use)."""

    def progress(self, progress: float | None, total: float | None = None, message: str = "") -> None:
        """Show how far the call is (a bar when `total` is known, else the message)."""

    def note(self, level: str, text: str) -> None:
        """A line for the session log (e.g. what a server logged while it worked); not shown in the chat."""

    async def ask(self, message: str, schema: dict[str, Any], timeout_s: float) -> tuple[str, dict[str, Any] | None]:
        """Ask the person: a form built from a flat JSON schema. Returns ("accept", content), ("decline", None)
        or ("cancel", None); no answer within `timeout_s` declines."""


class ChatFiles(Protocol):
    """The files uploaded to the chat a call belongs to (galaxy_chat.files.Uploads.for_chat makes one)."""

    @property
    def workspace(self) -> Path:
        """Where a python run's private view of them is made (beside them, so hard links work)."""

    async def sandbox_files(self) -> list[tuple[str, Path]]:
        """(display name, path on disk) of each file."""

    def table_database(self) -> Path | None:
        """The chat's tables.db (open it with galaxy_chat.data.sqlite_readonly), None while it has no table."""


class ArgumentsError(ValueError):
    """The arguments do not fit the tool's schema; the message says how, for the model to correct itself."""


@dataclass(frozen=True)
class ToolContext:
    """Everything a call may need, passed in: no globals. `io` is set for each call that has a person to
    show progress to or ask (absent in a background call)."""

    user: User
    session_id: str
    settings: Settings
    policy: Policy
    io: CallIO | None = None
    files: ChatFiles | None = None  # the chat's uploaded files, when the call belongs to a stored chat


class Tool(ABC):
    """Subclass, set `name`, `description`, `Params` (a pydantic model), implement `run`; drop it in `tools/`."""

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    timeout_s: ClassVar[float | None] = None  # None: TOOL_TIMEOUT_S
    command: ClassVar[str | None] = None  # direct command word, e.g. "calc" for `/calc 2+2`
    command_help: ClassVar[str] = ""  # one-line usage for /help, e.g. "/calc <expression>"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    async def run(self, args: Any, context: ToolContext) -> ToolResult:
        """Do the work. `args` is an instance of `Params`, already validated."""

    def spec(self) -> ToolSpec:
        return self._spec

    def parse_arguments(self, raw: dict[str, Any]) -> Any:
        """The call's arguments as `run` takes them (a `Params` instance); ArgumentsError when they do not fit."""
        try:
            return self.Params.model_validate(raw)
        except ValidationError as exc:
            raise ArgumentsError("; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
                for error in exc.errors())) from None

    @cached_property
    def _spec(self) -> ToolSpec:
        """Made once: pydantic builds a JSON schema in about half a millisecond, and every reply asks for it
        before its request can go out."""
        schema = self.Params.model_json_schema()
        schema.pop("title", None)
        return ToolSpec(self.name, self.description, schema)

    def effective_timeout(self) -> float:
        return self.timeout_s if self.timeout_s is not None else self.settings.tool_timeout_s

    def command_arguments(self, text: str) -> dict[str, Any]:
        """Arguments for a direct command: by default the whole text fills the first parameter."""
        first = next(iter(self.Params.model_fields))
        return {first: text}

    def startup_warning(self) -> str | None:
        """A sentence to log and show in /ready when the tool runs degraded (e.g. reduced isolation)."""
        return None
