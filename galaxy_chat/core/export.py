"""Conversation export: a chat as plain text, Markdown or JSON, and JSON read back into turns. Pure functions
(no UI, no disk); the JSON holds the events as the one codec writes them (vocabulary/event_json.py), as the
session log and the history store do."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.markdown_fences import close_open_fence
from galaxy_chat.core.turn import Turn
from galaxy_chat.vocabulary.event_json import decode, encode
from galaxy_chat.vocabulary.events import (
    Done,
    Error,
    Event,
    Sources,
    Status,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from galaxy_chat.vocabulary.tool_calls import pretty_arguments
from galaxy_chat.vocabulary.widgets import Buttons, File, Image, Markdown, Plot, Table

log = logging.getLogger(__name__)

FORMAT = "galaxy-chat-export"
VERSION = 1
TABLE_ROWS_IN_TEXT = 50  # the JSON keeps every row; the readable formats stay readable


@dataclass(frozen=True)
class ExportHeader:
    app_name: str
    user: str
    session_id: str
    started_at: datetime
    model: str
    tools: list[str] = field(default_factory=list)
    data_sources: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, session: ChatSession, app_name: str) -> ExportHeader:
        """The header of a live session (tests and other callers can build one directly)."""
        return cls(app_name, session.user.email, session.id, session.started_at, session.model,
                   list(session.tool_names), list(session.source_names))


@dataclass(frozen=True)
class LoadedExport:
    header: ExportHeader
    turns: list[Turn]


def export_filename(ext: str, now: datetime | None = None) -> str:
    """`galaxy-chat-YYYYMMDD-HHMM.<ext>` in the server's local time of the export."""
    return f"galaxy-chat-{(now or datetime.now()).strftime('%Y%m%d-%H%M')}.{ext}"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _reply_status(done: Done | None, errors: list[Error]) -> list[str]:
    lines = [f"Error: {error.message}" for error in errors]
    if done is None:
        lines.append("The reply had not finished when this was exported.")
    elif done.stopped:
        lines.append(f"Stopped by the person after {done.duration_s:.1f} s.")
    return lines


def _reply_summary(done: Done | None) -> str:
    if done is None:
        return ""
    calls = f"{done.rounds} model call{'s' if done.rounds != 1 else ''}"
    usage = done.usage
    tokens = f", {usage.input_tokens} tokens in, {usage.output_tokens} out" if usage.input_tokens else ""
    return f"Reply took {done.duration_s:.1f} s ({calls}{tokens})."


def _widget_lines(widget: Any, markdown: bool) -> list[str]:
    """A widget as readable lines; Markdown gets real tables and embedded images."""
    if isinstance(widget, Markdown):
        return [close_open_fence(widget.text) if markdown else widget.text]
    if isinstance(widget, Table):
        rows = widget.rows[:TABLE_ROWS_IN_TEXT]
        note = f"(showing {len(rows)} of {widget.total_rows} rows)" if len(rows) < widget.total_rows else ""
        if markdown:
            def cell(value: Any) -> str:
                return str(value).replace("|", "\\|").replace("\n", " ")
            lines = ["| " + " | ".join(cell(c) for c in widget.columns) + " |",
                     "|" + " --- |" * len(widget.columns)]
            lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        else:
            lines = [" | ".join(widget.columns)] + [" | ".join(str(v) for v in row) for row in rows]
        return [*lines, note] if note else lines
    if isinstance(widget, Plot):
        title = widget.figure.get("layout", {}).get("title", "")
        title = title.get("text", "") if isinstance(title, dict) else str(title)
        return [f"[Plot{': ' + title if title else ''} — open the JSON export to see it again]"]
    if isinstance(widget, Image):
        if markdown:
            alt = re.sub(r"[\[\]\n]", " ", widget.alt)
            return [f"![{alt}](data:{widget.mime};base64,{base64.b64encode(widget.data).decode()})"]
        kind = widget.mime.removeprefix("image/").upper()
        return [f"[Image{': ' + widget.alt if widget.alt else ''}, {kind}, {len(widget.data):,} bytes]"]
    if isinstance(widget, Buttons):
        return ["[Buttons: " + ", ".join(button.label for button in widget.buttons) + "]"]
    if isinstance(widget, File):
        return [f"[File: {widget.name}, {widget.mime}, {len(widget.data):,} bytes]"]
    return [f"[{getattr(widget, 'kind', type(widget).__name__)} widget]"]


def _fence(text: str, info: str = "") -> list[str]:
    """A code fence one backtick longer than any backtick run inside, so the content cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + info, text, ticks]


def _block(text: str, markdown: bool, lang: str = "") -> list[str]:
    return _fence(text, lang) if markdown else ["    " + line for line in text.splitlines() or [""]]


def _grouped(events: Sequence[Event]) -> list[list[str] | Event]:
    """Consecutive text deltas joined into one piece (a list of parts); Status ticks are transient, dropped."""
    items: list[list[str] | Event] = []
    for event in events:
        if isinstance(event, TextDelta):
            if items and isinstance(items[-1], list):
                items[-1].append(event.text)
            else:
                items.append([event.text])
        elif not isinstance(event, Status):
            items.append(event)
    return items


def _turn_lines(number: int, turn: Turn, user: str, markdown: bool) -> list[str]:
    h2, h3, bold = ("## ", "### ", "**") if markdown else ("", "", "")
    out = ["", f"{h2}Turn {number} — {_when(turn.at)}", "", f"{h3}You ({user}):"]
    out += [("> " + line) if markdown else line for line in turn.text.splitlines() or [""]]
    out += ["", f"{h3}Assistant ({turn.model}):"]
    errors: list[Error] = []
    done: Done | None = None
    for item in _grouped(turn.events):
        if isinstance(item, list):
            joined = "".join(item)
            out += ["", close_open_fence(joined) if markdown else joined]
        elif isinstance(item, ToolCallStarted):
            out += ["", f"{bold}Tool call: {item.name}{bold} ({item.call_id}), arguments:"]
            out += _block(pretty_arguments(item.arguments), markdown, "json")
        elif isinstance(item, ToolCallFinished):
            state = "failed" if item.is_error else "ok"
            out += ["", f"Result of {item.name} ({state}, {item.duration_s:.2f} s):"]
            out += _block(item.text, markdown, "text")
            for widget in item.widgets:
                out += ["", *_widget_lines(widget, markdown)]
        elif isinstance(item, Sources):
            out += ["", f"{bold}Sources used:{bold}"]
            out += [f"[{n}] {p.source_name}: {p.title} ({p.location})"
                    for n, p in enumerate(item.passages, 1)]
        elif isinstance(item, Error):
            errors.append(item)
        elif isinstance(item, Done):
            done = item
    if status := _reply_status(done, errors):
        out += ["", *(f"{bold}{line}{bold}" for line in status)]
    if summary := _reply_summary(done):
        out += ["", f"_{summary}_" if markdown else summary]
    return out


def _render(header: ExportHeader, turns: Sequence[Turn], markdown: bool) -> str:
    """Both readable formats share one walk over the events; `markdown` picks the markup."""
    out = [f"{'# ' if markdown else ''}{header.app_name} — conversation", ""]
    out += [f"{'- ' if markdown else ''}{label}: {value}" for label, value in (
        ("User", header.user), ("Session", header.session_id), ("Started", _when(header.started_at)),
        ("Model", header.model), ("Tools", ", ".join(header.tools) or "none"),
        ("Data sources", ", ".join(header.data_sources) or "none"), ("Exported", _when(datetime.now(UTC))))]
    out += [] if markdown else ["=" * 72]
    for number, turn in enumerate(turns, 1):
        out += _turn_lines(number, turn, header.user, markdown)
    return "\n".join(out).rstrip() + "\n"


def to_text(header: ExportHeader, turns: Sequence[Turn]) -> str:
    return _render(header, turns, markdown=False)


def to_markdown(header: ExportHeader, turns: Sequence[Turn]) -> str:
    return _render(header, turns, markdown=True)


def _event_json(event: Event) -> dict[str, Any]:
    record = encode(event)
    if isinstance(event, Error):
        record["detail"] = ""  # internal detail is for the server log, not for a file the person takes away
    return record


def to_json(header: ExportHeader, turns: Sequence[Turn]) -> str:
    document = {
        "format": FORMAT, "version": VERSION, "app_name": header.app_name, "user": header.user,
        "session_id": header.session_id, "started_at": header.started_at.isoformat(), "model": header.model,
        "tools": header.tools, "data_sources": header.data_sources,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "turns": [{"id": turn.id, "text": turn.text, "model": turn.model, "at": turn.at.isoformat(),
                   "events": [_event_json(event) for event in turn.events]} for turn in turns],
    }
    return json.dumps(document, ensure_ascii=False, indent=1, default=repr)


EXPORTERS: dict[str, tuple[Callable[[ExportHeader, Sequence[Turn]], str], str]] = {
    "txt": (to_text, "text/plain; charset=utf-8"),
    "md": (to_markdown, "text/markdown; charset=utf-8"),
    "json": (to_json, "application/json"),
}


def export_bytes(ext: str, header: ExportHeader, turns: Sequence[Turn]) -> tuple[bytes, str, str]:
    """(content, filename, media type) for `ext` in EXPORTERS — what a download needs."""
    render, media_type = EXPORTERS[ext]
    return render(header, turns).encode("utf-8"), export_filename(ext), media_type


def load_export(json_text: str | bytes) -> LoadedExport:
    """Read a JSON export back into its header and turns (widgets rebuilt); ValueError says what is wrong."""
    try:
        document = json.loads(json_text)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError("this is not a Galaxy Chat JSON export")
        if document.get("version") != VERSION:
            raise ValueError(f"export version {document.get('version')!r} is not supported (expected {VERSION})")
        header = ExportHeader(
            document["app_name"], document["user"], document["session_id"],
            datetime.fromisoformat(document["started_at"]), document["model"],
            list(document.get("tools", [])), list(document.get("data_sources", [])))
        turns = []
        for item in document["turns"]:
            events = [event for record in item["events"] if (event := decode(record)) is not None]
            turns.append(Turn(text=item["text"], model=item["model"], id=item["id"],
                              at=datetime.fromisoformat(item["at"]), events=events))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"the export is damaged: {type(exc).__name__}: {exc}") from None
    return LoadedExport(header, turns)
