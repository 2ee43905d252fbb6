"""`galaxy-chat db upgrade`, `galaxy-chat history import LOG_DIR`, `galaxy-chat history purge`, and the
migration run at start-up.

Both read the same settings as the app (DATABASE_URL, DATA_DIR, .env). Failures are one line on stderr
(`galaxy-chat: ...`) and a non-zero exit, like the app's other configuration errors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from galaxy_chat.settings import Settings, SettingsError, load_settings
from galaxy_chat.store.errors import StoreError
from galaxy_chat.store.migrate import open_store, upgrade

COMMANDS = ("db", "history")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="galaxy-chat", description="Manage the chat history database.")
    groups = parser.add_subparsers(dest="group", required=True)
    db = groups.add_parser("db", help="the history database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the schema migrations (safe to run while other replicas start)")
    history = groups.add_parser("history", help="conversation history").add_subparsers(dest="action", required=True)
    imports = history.add_parser("import", help="rebuild conversations from session logs (LOG_DIR/*.jsonl)")
    imports.add_argument("log_dir", type=Path, help="folder of <session_id>.jsonl files")
    history.add_parser("purge", help="remove deleted chats and, with HISTORY_RETENTION_DAYS, expired ones")
    return parser.parse_args(argv)


def database_url(settings: Settings) -> str:
    return settings.database_url.get_secret_value()


def migrate_at_start(settings: Settings) -> str:
    """Bring the history database to this version's schema before the app serves (raises StoreError)."""
    return asyncio.run(upgrade(database_url(settings), settings.data_dir))


async def import_logs(settings: Settings, log_dir: Path) -> str:
    await upgrade(database_url(settings), settings.data_dir)
    store = await open_store(database_url(settings), settings.data_dir)
    try:
        report = await store.import_session_logs(log_dir)
    finally:
        await store.close()
    lines = [f"imported {len(report.imported)} conversations, skipped {len(report.skipped)} "
             f"(already stored or empty), failed {len(report.failed)}"]
    lines += [f"  {name}: {why}" for name, why in sorted(report.failed.items())]
    return "\n".join(lines)


async def purge(settings: Settings) -> str:
    store = await open_store(database_url(settings), settings.data_dir)
    try:
        removed = await store.purge(settings.history_retention_days)
    finally:
        await store.close()
    return f"removed {removed} conversations"


def main(argv: list[str]) -> None:
    args = parse(argv)
    try:
        settings = load_settings()
        if args.group == "db":
            revision = asyncio.run(upgrade(database_url(settings), settings.data_dir))
            print(f"history database at schema revision {revision}")
        elif args.action == "purge":
            print(asyncio.run(purge(settings)))
        else:
            if not args.log_dir.is_dir():
                sys.exit(f"galaxy-chat: {args.log_dir} is not a folder")
            print(asyncio.run(import_logs(settings, args.log_dir)))
    except (SettingsError, StoreError) as exc:
        sys.exit(f"galaxy-chat: {exc}")
