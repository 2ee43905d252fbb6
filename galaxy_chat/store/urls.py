"""Database URLs: DATABASE_URL as a person writes it, turned into the async driver's form, and shown safely.

Empty means the embedded default, one SQLite file DATA_DIR/history.db. `postgresql://` (or `postgres://`)
becomes `postgresql+asyncpg://`; `sqlite:///path` names another SQLite file. The password never reaches
a log line or an error message: `describe()` drops it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from galaxy_chat.store.errors import StoreError

FILE_NAME = "history.db"
SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"


def async_url(database_url: str, data_dir: Path) -> URL:
    """The SQLAlchemy URL for `database_url` (empty: the SQLite file in `data_dir`)."""
    if not database_url.strip():
        return URL.create(SQLITE_DRIVER, database=str(Path(data_dir) / FILE_NAME))
    try:
        url = make_url(database_url.strip())
    except ArgumentError:
        raise StoreError("DATABASE_URL is not a database URL like postgresql://user:password@host/db") from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername=POSTGRES_DRIVER)
    if backend == "sqlite" and url.database:
        return url.set(drivername=SQLITE_DRIVER)
    raise StoreError("DATABASE_URL must start with postgresql:// or sqlite:/// (empty: SQLite in DATA_DIR)")


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, None for PostgreSQL."""
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def describe(url: URL) -> str:
    """Where the database is, for messages: the file, or postgresql://user@host:port/db without password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    host = f"{url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
    return f"postgresql://{f'{url.username}@' if url.username else ''}{host}/{url.database or ''}"
