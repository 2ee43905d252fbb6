"""Writing rows into a chat's tables.db: column types inferred from the first rows, then batches.

Memory stays bounded by one batch whatever the file's size. SQLite's column affinity converts the text
cells and keeps a later value that does not fit the inferred type as it is (a "n/a" in an INTEGER column
stays text), so nothing is lost.
The whole import is one transaction: a refused or failed file leaves no half table behind.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from galaxy_chat.data.sqlite_readonly import quote_name as quote
from galaxy_chat.files.errors import FileRefused
from galaxy_chat.files.names import sql_identifier

SAMPLE_ROWS = 1000
BATCH_ROWS = 5000
MAX_COLUMNS = 500  # what the read-only connection allows (SQLITE_LIMIT_COLUMN)
MAX_CELL_CHARS = 20_000  # the read-only connection refuses values over 100,000 bytes
INT_RANGE = 2**63
NULL_IF_EMPTY = "NULLIF(?, '')"


@dataclass
class TableInfo:
    name: str
    rows: int
    columns: list[tuple[str, str]]  # (name, INTEGER | REAL | TEXT)
    notes: list[str] = field(default_factory=list)

    def as_meta(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "columns": [list(column) for column in self.columns],
                "notes": self.notes}


def plain(value: Any) -> Any:
    """A value from a spreadsheet, JSON or Parquet as SQLite stores it: None, int, float or str."""
    if value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -INT_RANGE < value < INT_RANGE else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def value_type(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    text = value.strip()
    try:
        number = int(text)
        leading_zero = len(text) > 1 and text.lstrip("+-")[:1] == "0"  # codes like 00123 stay text
        return "TEXT" if leading_zero or "_" in text or not -INT_RANGE < number < INT_RANGE else "INTEGER"
    except ValueError:
        pass
    try:
        float(text)
        return "TEXT" if "_" in text else "REAL"
    except ValueError:
        return "TEXT"


def column_type(types: set[str | None]) -> str:
    if "TEXT" in types or types <= {None}:
        return "TEXT"
    return "REAL" if "REAL" in types else "INTEGER"


class Cells:
    """Fits each row to the header's width and caps long cells, counting what it changed."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.ragged = 0
        self.cut = 0

    def fit(self, row: Sequence[Any]) -> list[Any]:
        if len(row) != self.width:
            self.ragged += 1
            row = [*row[: self.width], *([None] * (self.width - len(row)))]
        else:
            row = list(row)
        try:
            if sum(map(len, row)) <= MAX_CELL_CHARS:  # the common case, in C: no cell can be too long
                return row
        except TypeError:  # numbers or None among the cells (spreadsheets, JSON, Parquet)
            pass
        for index, value in enumerate(row):
            if value.__class__ is str and len(value) > MAX_CELL_CHARS:
                row[index] = value[:MAX_CELL_CHARS]
                self.cut += 1
        return row


def column_names(header: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for position, cell in enumerate(header, start=1):
        text = "" if cell is None else str(cell)
        names.append(sql_identifier(text, names, fallback="column") if text.strip() else
                     sql_identifier(f"column_{position}", names))
    return names


def write_table(database: Path, table_name: str, header: Sequence[Any], rows: Iterable[Sequence[Any]],
                taken: Iterable[str] = ()) -> TableInfo:
    """Create a table named after `table_name` (unique in the database and among `taken`) holding `rows`."""
    if not header:
        raise FileRefused("This table has no columns.")
    if len(header) > MAX_COLUMNS:
        raise FileRefused(f"This table has {len(header):,} columns; at most {MAX_COLUMNS} can be imported.")
    cells = Cells(len(header))
    fitted: Iterator[list[Any]] = map(cells.fit, rows)
    sample = list(islice(fitted, SAMPLE_ROWS))
    types = [column_type({value_type(row[index]) for row in sample}) for index in range(len(header))]
    names = column_names(header)
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")  # a single file the read-only connection can open
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN IMMEDIATE")
        existing = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        table = sql_identifier(table_name, [*existing, *taken])
        columns = ", ".join(f"{quote(name)} {kind}" for name, kind in zip(names, types, strict=True))
        connection.execute(f"CREATE TABLE {quote(table)} ({columns})")
        # SQLite converts in C: "" becomes NULL, and the column's affinity turns "12" into 12 in an INTEGER column
        # (and keeps "n/a" as text), so no cell passes through Python code on its way in.
        placeholders = ", ".join([NULL_IF_EMPTY] * len(names))
        insert = f"INSERT INTO {quote(table)} VALUES ({placeholders})"
        count = 0
        batch = sample
        while batch:
            connection.executemany(insert, batch)
            count += len(batch)
            batch = list(islice(fitted, BATCH_ROWS))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()
    notes = []
    if cells.ragged:
        notes.append(f"{cells.ragged:,} rows had a different number of cells than the header and were padded "
                     "or cut to fit")
    if cells.cut:
        notes.append(f"{cells.cut:,} cells longer than {MAX_CELL_CHARS:,} characters were cut")
    return TableInfo(table, count, list(zip(names, types, strict=True)), notes)


def drop_tables(database: Path, names: Iterable[str]) -> None:
    if not database.exists():
        return
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        for name in names:
            connection.execute(f"DROP TABLE IF EXISTS {quote(name)}")
    finally:
        connection.close()
