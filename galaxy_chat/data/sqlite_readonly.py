"""A hardened read-only SQLite connection and a query runner that always ends in time.

Each layer alone leaks (checked against SQLite 3.40), so all of them are used together:
`mode=ro`, `PRAGMA query_only=ON` (set before the authorizer, which would refuse it), an authorizer that
allows reading only, lowered limits (no ATTACH, short strings so no single function call runs long), and
a progress handler that aborts the statement at a deadline or when the caller gives up.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROGRESS_STEPS = 10_000  # VM instructions between deadline checks: about a millisecond
COUNT_LIMIT = 100_000  # rows counted past the row cap before we say "more than"
# Measured with SQLite 3.40: instr()/replace() are quadratic and LIKE patterns are slow when long; with
# these limits the worst single call takes ~0.1 s (at the default 1e9 length, printf ran 11 s).
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 20_000,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 32,
    sqlite3.SQLITE_LIMIT_COLUMN: 500,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
    sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}
DATE_LIKE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([ T][\d:.]+)?$")
COLUMN_NOTE = re.compile(r"^\s*\"?(\w+)\"?\s[^\n]*?--([^\n]+)$", re.MULTILINE)
READ_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list"}
)
# One call of these can run for seconds (printf/format with a huge width, *blob with a huge size), or they
# reach outside the database.
DENIED_FUNCTIONS = frozenset(
    {"load_extension", "printf", "format", "zeroblob", "randomblob", "fts3_tokenizer", "readfile", "writefile"}
)
READ_VERBS = frozenset({"SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN"})
VERB = re.compile(
    r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)*"  # leading blanks and comments
    r"(CREATE\s+(?:(?:TEMP|TEMPORARY|UNIQUE|VIRTUAL)\s+)*\w+|DROP\s+\w+|ALTER\s+\w+|\w+)",
    re.IGNORECASE | re.DOTALL,
)
ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
ACTION_NAMES = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in (
        "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
        "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
        "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
        "DROP_VIEW", "INSERT", "PRAGMA", "TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE",
        "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "SAVEPOINT",
    )
}


class QueryError(Exception):
    """A query was refused or failed; the message is a sentence for the person and the model."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    total: int  # rows in the full result, or a lower bound when `total_exact` is False
    total_exact: bool = True
    elapsed_s: float = 0.0

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


@dataclass
class _Guard:
    """State shared by the authorizer and the progress handler of one connection."""

    verb: str = "SELECT"  # the statement's leading keywords, e.g. "DROP TABLE"
    deadline: float = float("inf")
    cancel: threading.Event = field(default_factory=threading.Event)
    refused: str = ""
    timed_out: bool = False

    def authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None) -> int:
        if action in ALLOWED_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            name = (arg2 or "").lower()
            if name not in DENIED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            self.refused = self.refused or f"The function {name}() is not allowed here."
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in READ_PRAGMAS:
            return sqlite3.SQLITE_OK
        what = ACTION_NAMES.get(action, f"action {action}")
        if action == sqlite3.SQLITE_PRAGMA:
            what = f"PRAGMA {arg1}" + (f"={arg2}" if arg2 else "")
        elif self.verb not in READ_VERBS:
            what = self.verb  # DROP TABLE first touches sqlite_master: name what the person wrote
        elif (arg1 or "").startswith("sqlite_"):
            # Table-valued functions (json_each, pragma_table_info) update sqlite_master internally.
            self.refused = self.refused or (
                "Table-valued functions such as json_each or pragma_table_info are not available; "
                "use PRAGMA table_info(table) to list columns."
            )
            return sqlite3.SQLITE_DENY
        self.refused = self.refused or f"Only reading is allowed: {what} was refused."
        return sqlite3.SQLITE_DENY

    def progress(self) -> int:
        # Non-zero aborts the running statement with "interrupted".
        if self.cancel.is_set():
            return 1
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return 1
        return 0


def connect_readonly(path: Path, guard: _Guard | None = None, attach: Mapping[str, Path] | None = None
                     ) -> sqlite3.Connection:
    """Open `path` hardened: nothing done through this connection can change a byte of the file. `attach`
    adds other files under schema names, read-only alike (attached before the limits forbid ATTACH);
    unqualified table names are looked up in `path` first, then in the attached files in order."""
    path = Path(path)
    for file in [path, *(attach or {}).values()]:
        if not Path(file).is_file():
            raise QueryError(f"The database {Path(file).name} does not exist.")
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None  # no implicit BEGIN
    )
    try:
        for schema, file in (attach or {}).items():
            uri = f"{Path(file).resolve().as_uri()}?mode=ro"
            connection.execute("ATTACH DATABASE ? AS " + quote_name(schema), (uri,))
        connection.execute("PRAGMA query_only=ON")  # before the authorizer, which refuses every pragma write
        connection.execute("PRAGMA trusted_schema=OFF")
        for limit, value in LIMITS.items():
            connection.setlimit(limit, value)
        guard = guard or _Guard()
        connection.set_authorizer(guard.authorize)
        connection.set_progress_handler(guard.progress, PROGRESS_STEPS)
    except BaseException:
        connection.close()
        raise
    return connection


def leading_verb(sql: str) -> str:
    """"DROP TABLE", "CREATE TEMP TABLE", "SELECT", ...: the words a refusal message should name."""
    match = VERB.match(sql)
    return " ".join(match.group(1).upper().split()) if match else ""


def _describe(error: sqlite3.Error, guard: _Guard, timeout_s: float) -> str:
    message = str(error)
    if guard.timed_out:
        return f"The query took longer than {timeout_s:g} s and was stopped."
    if guard.cancel.is_set():
        return "The query was cancelled."
    if guard.refused:
        return guard.refused
    if "one statement at a time" in message:
        return "Only one SQL statement is allowed per query: remove the ';' and what follows it."
    if "too big" in message:
        return "A value in the query grew too large (over 100,000 bytes) and the query was stopped."
    if "pattern too complex" in message:
        return "The LIKE/GLOB pattern is too long (limit 1,000 characters)."
    if "readonly" in message or "not authorized" in message:
        return "Only reading is allowed: the statement was refused."
    return f"SQLite error: {message}."


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run(
    path: Path, sql: str, params: Sequence[Any], timeout_s: float, row_limit: int, cancel: threading.Event,
    attach: Mapping[str, Path] | None = None,
) -> QueryResult:
    guard = _Guard(verb=leading_verb(sql), cancel=cancel)
    started = time.monotonic()
    connection = connect_readonly(path, guard, attach)
    rows: list[tuple[Any, ...]] = []
    total, exact = 0, True
    try:
        guard.deadline = time.monotonic() + timeout_s
        cursor = connection.execute(sql, params)
        columns = [item[0] for item in cursor.description or ()]
        if not columns:
            raise QueryError("The statement returned no result: send one SELECT.")
        rows = cursor.fetchmany(row_limit)
        total = len(rows)
        if len(rows) == row_limit:
            # Count what is left (bounded) so the "showing N of M" note is honest.
            while chunk := cursor.fetchmany(1_000):
                total += len(chunk)
                if total - row_limit >= COUNT_LIMIT:
                    exact = cursor.fetchone() is None
                    break
    except sqlite3.Error as exc:
        if not (guard.timed_out and rows):
            raise QueryError(_describe(exc, guard, timeout_s)) from exc
        exact = False  # the deadline hit while counting: the rows we already have are still good
    except (OverflowError, ValueError) as exc:  # e.g. text that is not valid UTF-8
        raise QueryError(f"A value could not be read: {exc}.") from exc
    finally:
        connection.close()
    return QueryResult(columns, rows, total, exact, time.monotonic() - started)


def run_query_sync(
    path: Path, sql: str, params: Sequence[Any] = (), *, timeout_s: float, row_limit: int,
    cancel: threading.Event | None = None, attach: Mapping[str, Path] | None = None,
) -> QueryResult:
    """Run one read-only statement; blocks, so call it from a worker thread (see `run_query`)."""
    text = sql.strip()
    if not text:
        raise QueryError("The query is empty.")
    return _run(Path(path), text, params, timeout_s, row_limit, cancel or threading.Event(), attach)


async def run_query(
    path: Path, sql: str, params: Sequence[Any] = (), *, timeout_s: float, row_limit: int,
    attach: Mapping[str, Path] | None = None,
) -> QueryResult:
    """`run_query_sync` in a thread; if the caller is cancelled (Stop, tool timeout) the query stops too."""
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(
            run_query_sync, path, sql, params, timeout_s=timeout_s, row_limit=row_limit, cancel=cancel, attach=attach
        )
    except asyncio.CancelledError:
        cancel.set()  # the progress handler sees this within ~1 ms and the thread ends
        raise


def _fetch(connection: sqlite3.Connection, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return connection.execute(sql, params).fetchall()


def schema_text(path: Path, max_values: int = 12, timeout_s: float = 5.0) -> str:
    """Tables, columns (with types and references), row counts and the values of small text columns."""
    connection = connect_readonly(Path(path), _Guard(deadline=time.monotonic() + timeout_s))
    try:
        lines = []
        tables = _fetch(connection, "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                    "AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        for table, sql in tables:
            notes = dict(COLUMN_NOTE.findall(sql or ""))  # `-- comments` in CREATE TABLE explain columns
            quoted = quote_name(table)
            keys = _fetch(connection, f"PRAGMA foreign_key_list({quoted})")
            references = {row[3]: f"{row[2]}.{row[4]}" for row in keys}
            columns = []
            for _, name, kind, *_ in _fetch(connection, f"PRAGMA table_info({quoted})"):
                text = f"{name} {kind}".strip()
                if name in references:
                    text += f" -> {references[name]}"
                if name in notes:
                    text += f" [{notes[name].strip()}]"
                column = quote_name(name)
                if kind.upper() == "TEXT":
                    values = _fetch(connection, f"SELECT DISTINCT {column} FROM {quoted} ORDER BY 1 LIMIT ?",
                                    max_values + 1)
                    if len(values) <= max_values:
                        text += " (" + ", ".join(repr(value) for (value,) in values) + ")"
                    elif DATE_LIKE.match(str(values[0][0])):  # the range tells the model which dates exist
                        last = _fetch(connection, f"SELECT max({column}) FROM {quoted}")[0][0]
                        text += f" ({values[0][0]} .. {last})"
                columns.append(text)
            count = _fetch(connection, f"SELECT count(*) FROM {quoted}")[0][0]
            lines.append(f"- {table} ({count} rows): " + ", ".join(columns))
        return "\n".join(lines)
    finally:
        connection.close()

