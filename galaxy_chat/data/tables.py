"""Table sources: rows of an SQLite table or view, rendered as text and indexed with FTS5.

Why FTS5 over rendered rows rather than LIKE on text columns: one ranking (bm25) for documents and rows,
stemming ("laptop" finds "Laptops"), and numbers and months become words a question can match. Months
are written out ("2024-11" also reads "November 2024") because people ask in words, not ISO dates.

The database is opened with the hardened read-only connection of the SQL tool, and re-indexed when its
size or modification time changes (the sample database is replaced atomically, which changes both).
"""

from __future__ import annotations

import calendar
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from galaxy_chat.data.search_index import SearchIndex, SourceUnavailable
from galaxy_chat.data.sources_file import TableSource
from galaxy_chat.data.sqlite_readonly import PROGRESS_STEPS, QueryError, connect_readonly

log = logging.getLogger(__name__)

INDEX_TIMEOUT_S = 60.0
PREVIEW_ROWS = 5
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _spoken(value: str) -> str:
    """`2024-11` -> `2024-11 (November 2024)`; other text unchanged."""
    if (match := MONTH.match(value)) and 1 <= int(match.group(2)) <= 12:
        return f"{value} ({calendar.month_name[int(match.group(2))]} {match.group(1)})"
    if (match := DAY.match(value)) and 1 <= int(match.group(2)) <= 12:
        return f"{value} ({int(match.group(3))} {calendar.month_name[int(match.group(2))]} {match.group(1)})"
    return value


def render_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return _spoken(str(value))


def _open(source: TableSource, timeout_s: float) -> sqlite3.Connection:
    if not Path(source.database).is_file():
        raise SourceUnavailable(f"The database of data source {source.id!r} does not exist.")
    try:
        connection = connect_readonly(Path(source.database))
    except QueryError as exc:
        raise SourceUnavailable(str(exc)) from None
    deadline = time.monotonic() + timeout_s
    # Replaces the default handler: reading a big view must not hold a worker thread forever.
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
    return connection


def _columns(connection: sqlite3.Connection, source: TableSource) -> list[tuple[str, str, int]]:
    """(name, declared type, primary-key position) of each column; SourceUnavailable when the table is absent."""
    columns = [(str(row[1]), str(row[2] or ""), int(row[5]))
               for row in connection.execute(f'PRAGMA table_info("{source.table}")')]
    if not columns:
        raise SourceUnavailable(f"The table {source.table!r} of data source {source.id!r} does not exist.")
    return columns


def _title_columns(source: TableSource, columns: list[tuple[str, str, int]]) -> list[str]:
    names = [name for name, _, _ in columns]
    if source.title_columns:
        missing = [name for name in source.title_columns if name not in names]
        if missing:
            raise SourceUnavailable(f"Data source {source.id!r}: title column {missing[0]!r} does not exist.")
        return list(source.title_columns)
    keys = sorted((position, name) for name, _, position in columns if position)
    return [name for _, name in keys] or names[:1]


def _rows(connection: sqlite3.Connection, source: TableSource) -> Iterator[tuple[str, str, str]]:
    columns = _columns(connection, source)
    names = [name for name, _, _ in columns]
    title_names = _title_columns(source, columns)
    cursor = connection.execute(f'SELECT * FROM "{source.table}" LIMIT ?', (source.max_rows + 1,))
    for number, row in enumerate(cursor, start=1):
        if number > source.max_rows:
            log.warning("data source %s: only the first %d rows are searchable (max_rows)", source.id,
                        source.max_rows)
            return
        values = dict(zip(names, row, strict=True))
        title = " · ".join(render_value(values[name]) for name in title_names)
        text = "; ".join(f"{name}: {render_value(value)}" for name, value in values.items())
        yield f"{source.table}: {title}", text, f"{source.table} row {number}"


def database_state(source: TableSource) -> str:
    try:
        stat = Path(source.database).stat()
    except OSError:
        raise SourceUnavailable(f"The database of data source {source.id!r} does not exist.") from None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def sync_table(index: SearchIndex, source: TableSource) -> bool:
    """Re-index the table when its database changed; True when it did."""
    state = database_state(source)
    with index.lock(source.id), index.connect() as connection:
        if index.prepare(connection, source.id, source.fingerprint()) == state:
            return False
        with closing(_open(source, INDEX_TIMEOUT_S)) as database:
            try:
                rows = list(_rows(database, source))
            except sqlite3.Error as exc:
                raise SourceUnavailable(f"Data source {source.id!r} cannot be read ({exc}).") from None
        connection.execute("BEGIN IMMEDIATE")
        try:
            index.clear_location(connection, source.id)
            index.add_chunks(connection, source.id, rows)
            index.set_state(connection, source.id, state)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    log.info("data source %s: indexed %d rows of %s", source.id, len(rows), source.table)
    return True


def preview_table(index: SearchIndex, source: TableSource, timeout_s: float) -> dict[str, Any]:
    """Columns, the first rows and the row count, read from the database itself (not the index)."""
    with closing(_open(source, timeout_s)) as connection:
        try:
            columns = _columns(connection, source)
            cursor = connection.execute(f'SELECT * FROM "{source.table}" LIMIT {PREVIEW_ROWS}')
            rows = [list(row) for row in cursor]
            count = connection.execute(f'SELECT count(*) FROM "{source.table}"').fetchone()[0]
        except sqlite3.Error as exc:
            raise SourceUnavailable(f"Data source {source.id!r} cannot be read ({exc}).") from None
    return {
        "table": source.table,
        "columns": [{"name": name, "type": kind} for name, kind, _ in columns],
        "rows": [[value if not isinstance(value, bytes) else render_value(value) for value in row] for row in rows],
        "row_count": count,
    }
