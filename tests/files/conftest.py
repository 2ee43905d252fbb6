"""A real history store (SQLite in the test's DATA_DIR), a chat in it, and Uploads over both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from galaxy_chat.files import UploadLimits, Uploads
from galaxy_chat.store import open_store, upgrade
from galaxy_chat.store.sql_store import SqlHistoryStore

ADA, BOB = "ada@example.com", "bob@example.com"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path) -> AsyncIterator[SqlHistoryStore]:
    await upgrade("", data_dir)
    opened = await open_store("", data_dir)
    yield opened
    await opened.close()


@pytest.fixture
def limits() -> UploadLimits:
    return UploadLimits()


@pytest.fixture
def uploads(store: SqlHistoryStore, data_dir: Path, limits: UploadLimits) -> Uploads:
    return Uploads(store, data_dir, limits)


@pytest.fixture
async def chat(store: SqlHistoryStore) -> str:
    return await store.create_conversation(ADA)
