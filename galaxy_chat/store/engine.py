"""Async engines for the two databases, set up the way the store relies on.

SQLite: WAL (readers never wait for the writer), a busy timeout (writers from other connections wait
instead of failing), foreign keys on (deletes cascade), synchronous=NORMAL (in WAL a process crash loses
nothing committed; a power cut may lose the last transactions). The driver's own transaction handling is
switched off and transactions begin explicitly: writes with BEGIN IMMEDIATE, so two writers queue on the
busy timeout rather than deadlocking on a read lock that wants to become a write lock.

PostgreSQL (asyncpg): connections are checked before use (`pool_pre_ping`), so after a server restart the
pool replaces dead connections instead of handing them out; statements are always planned for their
actual values (`plan_cache_mode`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from galaxy_chat.store.errors import DatabaseUnavailable, DatabaseUnreadable, StoreError
from galaxy_chat.store.urls import describe, sqlite_path

BUSY_TIMEOUT_MS = 10_000
WRITE = "galaxy_write"  # execution option: this transaction writes
SQLITE_MAGIC = b"SQLite format 3\x00"


def make_engine(url: URL) -> AsyncEngine:
    if sqlite_path(url) is not None:
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_setup(engine)
        return engine
    # asyncpg prepares every statement; after five runs PostgreSQL may switch a prepared statement to a
    # generic plan, which cannot see how selective this owner or these search words are. Custom plans cost a
    # little planning and keep the right index for each search.
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800,
                               connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}})


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "journal_mode=WAL", "synchronous=NORMAL",
                       "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def check_sqlite_file(path: Path) -> None:
    """Refuse, with one line naming the file, a SQLite file that is not a readable database."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_MAGIC))
        if header != SQLITE_MAGIC:
            raise DatabaseUnreadable(f"the history database {path} is damaged (not a SQLite file)")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except OSError as exc:
        raise DatabaseUnreadable(f"cannot read the history database {path}: {exc.strerror or exc}") from None
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnreadable(f"the history database {path} is damaged ({exc})") from None


def as_store_error(exc: BaseException, url: URL) -> StoreError:
    """A driver's failure to connect or read, as one line naming the database (never its password)."""
    where = describe(url)
    orig = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else exc
    reason = " ".join(str(orig or exc).split())[:300]
    if sqlite_path(url) is not None:
        return DatabaseUnreadable(f"cannot use the history database {where}: {reason}")
    return DatabaseUnavailable(f"cannot reach the history database {where}: {reason}")
