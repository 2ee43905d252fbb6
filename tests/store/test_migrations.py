"""Migrations on real databases: fresh, already upgraded, newer than the code, damaged, and raced."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from galaxy_chat.store import DatabaseNotUpgraded, DatabaseTooNew, DatabaseUnreadable, open_store, upgrade
from galaxy_chat.store.migrate import head_revision
from galaxy_chat.testing.app_process import ROOT, subprocess_env

UPGRADE = "import asyncio, sys; from pathlib import Path; from galaxy_chat.store import upgrade; " \
          "print(asyncio.run(upgrade(sys.argv[1], Path(sys.argv[2]))))"


def cli(*args: str, database_url: str, data_dir: Path, timeout: float = 40) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(DATABASE_URL=database_url, DATA_DIR=str(data_dir), LOG_DIR=str(data_dir / "logs"))
    return subprocess.run([sys.executable, "-m", "galaxy_chat", *args], cwd=data_dir.parent, env=env,
                          capture_output=True, text=True, timeout=timeout)


async def tables(database_url: str, data_dir: Path) -> set[str]:
    store = await open_store(database_url, data_dir)
    try:
        async with store.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            else:
                rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {name for (name,) in rows}
    finally:
        await store.close()


async def test_a_fresh_database_is_created_at_the_head_revision(database_url: str, data_dir: Path) -> None:
    with pytest.raises(DatabaseNotUpgraded, match="galaxy-chat db upgrade"):
        await open_store(database_url, data_dir)
    assert await upgrade(database_url, data_dir) == head_revision()
    assert {"conversations", "messages", "parts", "search_docs", "alembic_version"} <= await tables(
        database_url, data_dir)
    if not database_url:
        assert (data_dir / "history.db").exists()


async def test_upgrading_again_changes_nothing(database_url: str, data_dir: Path) -> None:
    await upgrade(database_url, data_dir)
    store = await open_store(database_url, data_dir)
    cid = await store.create_conversation("ada@example.com", title="kept")
    await store.close()
    assert await upgrade(database_url, data_dir) == head_revision()
    store = await open_store(database_url, data_dir)
    assert (await store.get_conversation("ada@example.com", cid)).title == "kept"
    await store.close()


async def test_a_database_newer_than_the_code_is_refused_in_one_line(database_url: str, data_dir: Path) -> None:
    await upgrade(database_url, data_dir)
    store = await open_store(database_url, data_dir)
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0042_from_the_future'"))
    await store.close()
    for attempt in (upgrade, open_store):
        with pytest.raises(DatabaseTooNew) as raised:
            await attempt(database_url, data_dir)
        assert "0042_from_the_future" in str(raised.value) and "\n" not in str(raised.value)
    result = await asyncio.to_thread(cli, "db", "upgrade", database_url=database_url, data_dir=data_dir)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("galaxy-chat: the history database ") and result.stderr.count("\n") == 1
    assert "newer version" in result.stderr and "password" not in result.stderr


@pytest.mark.parametrize("damage", ["garbage", "torn page"])
async def test_a_damaged_sqlite_file_stops_start_up_naming_the_file(tmp_path: Path, damage: str) -> None:
    data_dir = tmp_path / "data"
    await upgrade("", data_dir)
    path = data_dir / "history.db"
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all " * 200)
    else:  # a valid header, then a schema page overwritten
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")
        raw = bytearray(path.read_bytes())
        raw[100:4096] = b"\xff" * (4096 - 100)
        path.write_bytes(bytes(raw))
    for attempt in (upgrade, open_store):
        with pytest.raises(DatabaseUnreadable) as raised:
            await attempt("", data_dir)
        assert str(path) in str(raised.value) and "\n" not in str(raised.value)
    result = await asyncio.to_thread(cli, "--port", "1", database_url="", data_dir=data_dir)
    assert result.returncode != 0
    assert result.stderr.startswith("galaxy-chat: ") and str(path) in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


async def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://galaxy:hunter2-secret@127.0.0.1:9/history"
    result = await asyncio.to_thread(cli, "db", "upgrade", database_url=url, data_dir=tmp_path / "data")
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert "postgresql://galaxy@127.0.0.1:9/history" in result.stderr and "hunter2" not in result.stderr


async def test_processes_upgrading_at_once_migrate_exactly_once(database_url: str, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = subprocess_env()
    processes = [subprocess.Popen([sys.executable, "-c", UPGRADE, database_url, str(data_dir)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [await asyncio.to_thread(process.communicate, timeout=50) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], [err for _, err in outcomes]
    assert [out.strip() for out, _ in outcomes] == [head_revision()] * 3
    store = await open_store(database_url, data_dir)
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar_one() == 1
    await store.close()


def test_cli_upgrade_reports_the_revision(tmp_path: Path) -> None:
    result = cli("db", "upgrade", database_url="", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"history database at schema revision {head_revision()}"
    assert (tmp_path / "data" / "history.db").exists()


def test_cli_imports_logs_and_purges(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "session-from-cli-01.jsonl").write_text(
        '{"ts": "2025-01-01T10:00:00.000Z", "type": "session_start", "user": "ada@example.com"}\n'
        '{"ts": "2025-01-01T10:00:01.000Z", "type": "user", "text": "Hi", "model": "m"}\n'
        '{"ts": "2025-01-01T10:00:02.000Z", "type": "text", "text": "Hello."}\n'
        '{"ts": "2025-01-01T10:00:03.000Z", "type": "done", "usage": {}, "stopped": false}\n')
    data_dir = tmp_path / "data"
    imported = cli("history", "import", str(logs), database_url="", data_dir=data_dir)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("imported 1 conversations, skipped 0")
    env_days = subprocess_env(DATABASE_URL="", DATA_DIR=str(data_dir), HISTORY_RETENTION_DAYS="30")
    purged = subprocess.run([sys.executable, "-m", "galaxy_chat", "history", "purge"], cwd=tmp_path, env=env_days,
                            capture_output=True, text=True, timeout=40)
    assert purged.returncode == 0 and purged.stdout.strip() == "removed 1 conversations"  # 2025 is long ago
    missing = cli("history", "import", str(tmp_path / "nowhere"), database_url="", data_dir=data_dir)
    assert missing.returncode != 0 and missing.stderr.startswith("galaxy-chat: ")
