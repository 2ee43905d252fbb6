"""The search index: one SQLite file under DATA_DIR with one FTS5 table per data source.

One table per source (not one shared table filtered by source) so a search only ever reads the sources
it was allowed to, and bm25's statistics of one source are never shaped by another's text. The index is
a cache: a file of another version, or a broken one, is deleted and rebuilt.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

INDEX_VERSION = 1
FILE_NAME = "index.db"
TOKENIZER = "porter unicode61 remove_diacritics 2"  # English stemming: "laptops" finds "laptop"
TITLE_WEIGHT = 3.0  # a word in a heading says more about a passage than the same word in its text
SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    source_id TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, chunks INTEGER NOT NULL, PRIMARY KEY (source_id, path)
);
"""


class SourceUnavailable(Exception):
    """A source cannot be read right now (folder or database missing); the message is a sentence."""


@dataclass(frozen=True)
class Hit:
    rowid: int
    title: str
    text: str
    location: str
    bm25: float  # FTS5's bm25: negative, lower is better


def fts_table(source_id: str) -> str:
    # Source ids are validated as [a-z][a-z0-9_]*, so this is a safe identifier.
    return f'"fts_{source_id}"'


class SearchIndex:
    """Connections are opened per operation (thread-safe); writers of one source are serialised by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._checked = False

    def lock(self, source_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(source_id, threading.Lock())

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        connection = self._open()
        try:
            yield connection
        finally:
            connection.close()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._guard:
            # Once per process (checking and creating take the write lock), and again if someone deleted it.
            if not self._checked or not self.path.exists():
                self._discard_if_unusable()
                with closing(sqlite3.connect(self.path, timeout=15, isolation_level=None)) as connection:
                    connection.executescript(SCHEMA)
                    connection.execute(f"PRAGMA user_version = {INDEX_VERSION}")
                self._checked = True
        return sqlite3.connect(self.path, timeout=15, isolation_level=None, check_same_thread=False)

    def _discard_if_unusable(self) -> None:
        if not self.path.exists():
            return
        try:
            connection = sqlite3.connect(self.path, timeout=15)
            try:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                healthy = connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            version, healthy = -1, False
            log.warning("search index %s is unreadable (%s): rebuilding it", self.path, exc)
        if version not in (0, INDEX_VERSION) or not healthy:
            log.info("search index %s is of another version or damaged: rebuilding it", self.path)
            self.path.unlink(missing_ok=True)

    # -- per-source state ------------------------------------------------------------------------------

    def prepare(self, connection: sqlite3.Connection, source_id: str, fingerprint: str) -> str:
        """Make sure the source's table exists for this definition; return its stored state ("" when new)."""
        row = connection.execute("SELECT fingerprint, state FROM sources WHERE id = ?", (source_id,)).fetchone()
        if row and row[0] == fingerprint:
            return str(row[1])
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(f"DROP TABLE IF EXISTS {fts_table(source_id)}")
            connection.execute(f"CREATE VIRTUAL TABLE {fts_table(source_id)} USING fts5("
                               f"title, text, location UNINDEXED, tokenize = '{TOKENIZER}')")
            connection.execute("DELETE FROM files WHERE source_id = ?", (source_id,))
            connection.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, '')", (source_id, fingerprint))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return ""

    @staticmethod
    def set_state(connection: sqlite3.Connection, source_id: str, state: str) -> None:
        connection.execute("UPDATE sources SET state = ? WHERE id = ?", (state, source_id))

    @staticmethod
    def add_chunks(connection: sqlite3.Connection, source_id: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Insert (title, text, location) rows."""
        connection.executemany(f"INSERT INTO {fts_table(source_id)} (title, text, location) VALUES (?, ?, ?)", rows)

    @staticmethod
    def clear_location(connection: sqlite3.Connection, source_id: str, location: str | None = None) -> None:
        if location is None:
            connection.execute(f"DELETE FROM {fts_table(source_id)}")
        else:
            connection.execute(f"DELETE FROM {fts_table(source_id)} WHERE location = ?", (location,))

    # -- reading ---------------------------------------------------------------------------------------

    def search(self, source_id: str, match: str, limit: int) -> list[Hit]:
        table = fts_table(source_id)
        sql = (f"SELECT rowid, title, text, location, bm25({table}, {TITLE_WEIGHT}, 1.0, 0.0) AS score "
               f"FROM {table} WHERE {table} MATCH ? ORDER BY score LIMIT ?")
        with self.connect() as connection:
            return [Hit(*row) for row in connection.execute(sql, (match, limit))]

    def term_statistics(self, source_id: str, terms: list[str], rowids: list[int]
                        ) -> tuple[int, dict[str, int], dict[int, set[str]]]:
        """Rows in the source, rows holding each term, and which terms each of `rowids` holds."""
        table = fts_table(source_id)
        marks = ",".join("?" * len(rowids))
        frequency: dict[str, int] = {}
        holds: dict[int, set[str]] = {rowid: set() for rowid in rowids}
        with self.connect() as connection:
            total = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for term in terms:
                match = f'"{term}"'
                frequency[term] = connection.execute(
                    f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", (match,)).fetchone()[0]
                if frequency[term] and rowids:
                    for (rowid,) in connection.execute(
                            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid IN ({marks})",
                            (match, *rowids)):
                        holds[rowid].add(term)
        return total, frequency, holds

    def files(self, source_id: str) -> list[tuple[str, int, int]]:
        """(path, size, chunks) of every indexed file of a document source, by path."""
        with self.connect() as connection:
            return connection.execute("SELECT path, size, chunks FROM files WHERE source_id = ? ORDER BY path",
                                      (source_id,)).fetchall()

    def first_chunk(self, source_id: str, location: str | None = None) -> Hit | None:
        table = fts_table(source_id)
        where, params = ("WHERE location = ?", (location,)) if location is not None else ("", ())
        with self.connect() as connection:
            row = connection.execute(f"SELECT rowid, title, text, location, 0.0 FROM {table} {where} "
                                     f"ORDER BY rowid LIMIT 1", params).fetchone()
        return Hit(*row) if row else None

    def count(self, source_id: str) -> int:
        with self.connect() as connection:
            return int(connection.execute(f"SELECT count(*) FROM {fts_table(source_id)}").fetchone()[0])
