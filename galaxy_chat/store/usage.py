"""Usage over a period, for the admin page: aggregate SQL over the messages and parts tables, never a scan
of the records in Python. A reply's `done` record carries its token usage, a `tool_call_finished` record
the tool's name and whether it failed, an `error` record its kind. The JSON fields are read with SQLite's
json_extract or PostgreSQL's jsonb operators; everything else is the same query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Date, Integer, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from galaxy_chat.store.schema import conversations, messages, parts


@dataclass(frozen=True)
class UsageRow:
    key: str  # a model, a person, a tool, an error kind, or a day (YYYY-MM-DD)
    count: int  # replies, tool calls or errors
    input_tokens: int = 0
    output_tokens: int = 0
    errors: int = 0  # tool calls that failed
    model: str = ""  # by day: the model


@dataclass(frozen=True)
class UsageReport:
    since: datetime
    until: datetime
    by_model: list[UsageRow] = field(default_factory=list)
    by_user: list[UsageRow] = field(default_factory=list)
    by_tool: list[UsageRow] = field(default_factory=list)
    errors: list[UsageRow] = field(default_factory=list)
    by_day: list[UsageRow] = field(default_factory=list)  # replies and tokens per day and model


def _field(dialect: str, *path: str) -> Any:
    """One field of a record's JSON, as an SQL expression."""
    if dialect == "postgresql":
        return cast(parts.c.data, JSONB)[path].astext
    return func.json_extract(parts.c.data, "$." + ".".join(path))


def _is_true(dialect: str, name: str) -> Any:
    if dialect == "postgresql":
        return _field(dialect, name) == "true"
    return _field(dialect, name) == 1  # json_extract gives SQLite's 1 for true


def _tokens(dialect: str, name: str) -> Any:
    return func.coalesce(func.sum(cast(_field(dialect, "usage", name), Integer)), 0)


def _day(dialect: str) -> Any:
    return cast(messages.c.created_at, Date) if dialect == "postgresql" else func.date(messages.c.created_at)


async def usage_report(conn: AsyncConnection, since: datetime, until: datetime) -> UsageReport:
    dialect = conn.dialect.name
    in_period = (messages.c.created_at >= since, messages.c.created_at < until)
    of_records = parts.join(messages, messages.c.id == parts.c.message_id)
    tokens = (_tokens(dialect, "input_tokens"), _tokens(dialect, "output_tokens"))
    done = (parts.c.type == "done", messages.c.role == "assistant", *in_period)

    async def rows(query: Any) -> list[Any]:
        return list(await conn.execute(query))

    by_model = await rows(select(messages.c.model, func.count(), *tokens).select_from(of_records)
                          .where(*done).group_by(messages.c.model).order_by(func.count().desc()))
    with_owner = of_records.join(conversations, conversations.c.id == messages.c.conversation_id)
    by_user = await rows(select(conversations.c.owner, func.count(), *tokens).select_from(with_owner)
                         .where(*done).group_by(conversations.c.owner).order_by(func.count().desc()))
    day = _day(dialect)
    by_day = await rows(select(day, messages.c.model, func.count(), *tokens).select_from(of_records)
                        .where(*done).group_by(day, messages.c.model).order_by(day, messages.c.model))
    tool = _field(dialect, "name")
    failed_count = func.sum(cast(_is_true(dialect, "is_error"), Integer))
    by_tool = await rows(select(tool, func.count(), failed_count).select_from(of_records)
                         .where(parts.c.type == "tool_call_finished", *in_period)
                         .group_by(tool).order_by(func.count().desc()))
    kind = _field(dialect, "kind")
    errors = await rows(select(kind, func.count()).select_from(of_records)
                        .where(parts.c.type == "error", *in_period).group_by(kind).order_by(func.count().desc()))
    return UsageReport(
        since, until,
        by_model=[UsageRow(str(m or ""), int(n), int(i), int(o)) for m, n, i, o in by_model],
        by_user=[UsageRow(str(u), int(n), int(i), int(o)) for u, n, i, o in by_user],
        by_tool=[UsageRow(str(t or ""), int(n), errors=int(e or 0)) for t, n, e in by_tool],
        errors=[UsageRow(str(k or ""), int(n)) for k, n in errors],
        by_day=[UsageRow(str(d), int(n), int(i), int(o), model=str(m or "")) for d, m, n, i, o in by_day],
    )
