"""Schema migrations (Alembic, in migrations/) and opening the store.

`upgrade()` brings the database to this version's schema. Every replica may call it at start: one
process at a time does the work (SQLite: an exclusive lock on DATA_DIR/history.db.lock; PostgreSQL:
pg_advisory_lock on the migrating connection), the others then find nothing left to do. A database
carrying a revision this code does not know was upgraded by a newer version: refused with one line, as
is a SQLite file that is damaged or unreadable. `open_store()` checks the revision and hands out the store.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from galaxy_chat.store.engine import as_store_error, check_sqlite_file, make_engine
from galaxy_chat.store.errors import DatabaseNotUpgraded, DatabaseTooNew, StoreError
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.store.urls import async_url, describe, sqlite_path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x6761_6C61_7879  # "galaxy": the advisory lock every replica's migration takes
CONNECT_ERRORS = (DBAPIError, OperationalError, OSError, asyncio.TimeoutError)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the history store ships its migrations"
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


async def current_revision(conn: AsyncConnection) -> str | None:
    def read(sync: Connection) -> str | None:
        from sqlalchemy import inspect

        if not inspect(sync).has_table("alembic_version"):
            return None
        return sync.execute(text("SELECT version_num FROM alembic_version")).scalar()

    return await conn.run_sync(read)


def too_new(url: URL, revision: str) -> DatabaseTooNew:
    return DatabaseTooNew(
        f"the history database {describe(url)} is at schema revision {revision}, which this version of Galaxy Chat "
        "does not know: a newer version upgraded it (run that version, or restore a backup)")


@asynccontextmanager
async def migration_lock(url: URL, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection holding the one migration lock for this database."""
    path = sqlite_path(url)
    if path is not None:
        lock_file = await asyncio.to_thread(_lock_file, path.with_name(path.name + ".lock"))
        try:
            async with engine.connect() as conn:
                yield conn
        finally:
            os.close(lock_file)  # closing the descriptor releases the lock
        return
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        await conn.commit()
        try:
            yield conn
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            await conn.commit()


def _lock_file(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # waits while another process migrates
    return fd


def _prepare(database_url: str, data_dir: Path) -> URL:
    url = async_url(database_url, data_dir)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        check_sqlite_file(path)
    return url


async def upgrade(database_url: str, data_dir: Path) -> str:
    """Bring the database to this version's schema; returns the revision it is at. Safe to run from many
    processes at once. Raises a StoreError (one line) when the database cannot be used."""
    url = _prepare(database_url, data_dir)
    engine = make_engine(url)
    try:
        async with migration_lock(url, engine) as conn:
            revision = await current_revision(conn)
            if revision is not None and revision not in known_revisions():
                raise too_new(url, revision)
            if revision != head_revision():
                await conn.run_sync(_run_alembic)
                await conn.commit()
            return head_revision()
    except StoreError:
        raise
    except CONNECT_ERRORS as exc:
        raise as_store_error(exc, url) from None
    finally:
        await engine.dispose()


def _run_alembic(sync: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync
    command.upgrade(config, "head")


async def open_store(database_url: str, data_dir: Path) -> SqlHistoryStore:
    """The store for DATABASE_URL (empty: SQLite in `data_dir`), once its schema is this version's."""
    url = _prepare(database_url, data_dir)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            revision = await current_revision(conn)
    except CONNECT_ERRORS as exc:
        await engine.dispose()
        raise as_store_error(exc, url) from None
    problem: StoreError | None = None
    if revision is not None and revision not in known_revisions():
        problem = too_new(url, revision)
    elif revision != head_revision():
        problem = DatabaseNotUpgraded(
            f"the history database {describe(url)} is not at this version's schema: run galaxy-chat db upgrade")
    if problem is not None:
        await engine.dispose()
        raise problem
    return SqlHistoryStore(engine)
