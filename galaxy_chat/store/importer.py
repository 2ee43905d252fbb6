"""Rebuilding conversations from the session logs (LOG_DIR/<session_id>.jsonl) the app has always written.

Each log becomes one conversation with the session id as its id, owned by the session's user. A person's
message (`user`, a `/command`, a widget's button: `tool_action`) starts a turn; the events after it become
the reply's parts: streamed `text` lines are joined (a round's `model_reply` text, when present, is the
whole of it), tool calls, sources (from `retrieval`), errors and the closing `done`. Bookkeeping lines
(status, model_call, interrupted, busy, session_end) are not part of the conversation. A reply the log does
not close with `done` stays without one, so it reads as interrupted. One transaction per log: a log is
imported whole or not at all, and a conversation already in the store is left alone (importing twice adds
nothing).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from galaxy_chat.store import messages as msg
from galaxy_chat.store.indexing import index_message
from galaxy_chat.store.schema import conversations
from galaxy_chat.store.threads import new_message_id, text_part
from galaxy_chat.store.types import ImportReport

if TYPE_CHECKING:
    from galaxy_chat.store.sql_store import SqlHistoryStore

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
PART_TYPES = frozenset({"tool_call_started", "tool_call_finished", "sources", "error"})
LOG_ONLY = ("ts", "traceback")  # audit detail of the log, not what the page shows


@dataclass
class Draft:
    role: str
    model: str
    at: datetime
    text: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    terminal: dict[str, Any] | None = None


@dataclass
class Session:
    owner: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    models: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    data_sources: list[str] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # streamed text not yet made a part
    reply: Draft | None = None

    def flush(self, whole: str | None = None) -> None:
        text = whole or "".join(self.pending)
        self.pending = []
        if text and self.reply is not None:
            self.reply.parts.append(text_part(text))

    def turn(self, text: str, model: str, at: datetime) -> None:
        self.flush()
        self.drafts.append(Draft("user", model, at, text=text))
        self.reply = Draft("assistant", model, at)
        self.drafts.append(self.reply)
        if model and model not in self.models:
            self.models.append(model)


def timestamp(record: dict[str, Any], fallback: datetime) -> datetime:
    value = record.get("ts")
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return fallback


def parse(lines: list[str], fallback: datetime) -> Session:
    session = Session()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if not isinstance(record, dict):
            continue
        at = timestamp(record, fallback)
        session.created_at = session.created_at or at
        session.updated_at = at
        read(session, record, at)
    session.flush()
    return session


def read(session: Session, record: dict[str, Any], at: datetime) -> None:
    kind = record.get("type")
    if kind == "session_start":
        session.owner = str(record.get("user") or "")
    elif kind == "session_settings":
        session.tools = [str(t) for t in record.get("tools") or []]
        session.data_sources = [str(s) for s in record.get("data_sources") or []]
    elif kind == "model_switch" and record.get("model") and record["model"] not in session.models:
        session.models.append(str(record["model"]))
    elif kind == "user":
        session.turn(str(record.get("text", "")), str(record.get("model") or ""), at)
    elif kind == "command":
        session.turn(str(record.get("text", "")), "", at)
    elif kind == "tool_action":
        session.turn(f"▶ {record.get('tool', '')}", "", at)
    elif session.reply is None:
        return
    elif kind == "text":
        session.pending.append(str(record.get("text", "")))
    elif kind == "model_reply":
        session.flush(record.get("text") if isinstance(record.get("text"), str) else None)
    elif kind == "retrieval" and record.get("passages"):
        session.flush()
        session.reply.parts.append({"type": "sources", "passages": record["passages"]})
    elif kind in PART_TYPES or kind == "done":
        session.flush()
        part = {key: value for key, value in record.items() if key not in LOG_ONLY}
        if kind == "done":
            session.reply.terminal, session.reply = part, None
        else:
            session.reply.parts.append(part)


async def import_logs(store: SqlHistoryStore, log_dir: Path) -> ImportReport:
    report = ImportReport([], [], {})
    for path in sorted(Path(log_dir).glob("*.jsonl")):
        session_id = path.stem
        if not SESSION_ID.match(session_id):
            report.failed[path.name] = "the file name is not a session id"
            continue
        try:
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            session = parse(path.read_text(encoding="utf-8", errors="replace").splitlines(), mtime)
            if not session.owner or not session.drafts:
                report.skipped.append(session_id)
            elif await write_session(store, session_id, session):
                report.imported.append(session_id)
            else:
                report.skipped.append(session_id)
        except Exception as exc:  # one bad log must not stop the others; the report says which and why
            log.exception("could not import %s", path.name)
            report.failed[path.name] = f"{type(exc).__name__}: {exc}"
    return report


async def write_session(store: SqlHistoryStore, session_id: str, session: Session) -> bool:
    """Write one parsed log as a conversation; False when that id is already stored."""
    created = session.created_at or datetime.now(UTC)
    async with store.write() as conn:
        if (await conn.execute(select(conversations.c.id).where(conversations.c.id == session_id))).first():
            return False
        await msg.insert_conversation(conn, session.owner, session_id, title="", models=session.models,
                                      tools=session.tools, data_sources=session.data_sources, now=created)
        for draft in session.drafts:
            message_id = await msg.append_message(
                conn, session.owner, session_id, draft.role, model=draft.model, text=draft.text,
                message_id=new_message_id(), after=None, replaces=None, lease_s=None, now=draft.at)
            if draft.parts:
                await msg.append_parts(conn, session.owner, message_id, draft.parts, first_seq=0, lease_s=None,
                                       now=draft.at)
            if draft.terminal is not None:
                await msg.finish_message(conn, session.owner, message_id, draft.terminal, seq=len(draft.parts),
                                         now=draft.at)
            elif draft.role == "assistant":
                await index_message(conn, session.owner, session_id, message_id)
        await conn.execute(update(conversations).where(conversations.c.id == session_id)
                           .values(updated_at=session.updated_at or created))
    return True
