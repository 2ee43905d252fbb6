"""Real databases for the store tests: a SQLite file per test, and one PostgreSQL server for the whole run
(a fresh schema per test). PostgreSQL tests are skipped, with the reason, only outside CI when PostgreSQL
is not installed; in CI a missing server fails them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from galaxy_chat.store import open_store, upgrade
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.testing.postgres import PostgresServer, find_bin_dir


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if find_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql): CI must run these tests")
        pytest.skip("PostgreSQL is not installed here (no /usr/lib/postgresql/*/bin/initdb)")
    server = PostgresServer().start()
    yield server
    server.cleanup()


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
