"""Real databases for the store tests: a SQLite file per test, and one PostgreSQL server for the whole run
(a fresh schema per test). PostgreSQL tests are skipped, with the reason, only outside CI when PostgreSQL
is not installed; in CI a missing server fails them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from galaxy_chat.store import open_store, upgrade
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.testing.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """DATABASE_URL of an empty database ('' is the SQLite default in tmp_path/data)."""
    if request.param == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("postgres")
    if not server.running:
        server.start()
    server.reset()
    return server.url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def store(database_url: str, data_dir: Path) -> AsyncIterator[SqlHistoryStore]:
    await upgrade(database_url, data_dir)
    opened = await open_store(database_url, data_dir)
    yield opened
    await opened.close()
