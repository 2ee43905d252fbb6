"""Which database errors keep a history write for a retry: PostgreSQL saying "not now" (starting up, shutting
down, out of connections, a deadlock) must never drop rows; a write the database refuses for good is dropped.
The errors are built as SQLAlchemy's asyncpg dialect builds them from asyncpg's own exception classes."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from galaxy_chat.store.writer_ops import is_transient


def as_sqlalchemy_raises(error: Exception) -> DBAPIError:
    adapted = AsyncAdapt_asyncpg_dbapi.Error(str(error), error)
    return DBAPIError.instance("INSERT ...", None, adapted, AsyncAdapt_asyncpg_dbapi.Error)


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
])
def test_postgresql_saying_not_now_keeps_the_write(error: Exception) -> None:
    assert is_transient(as_sqlalchemy_raises(error))


def test_a_write_refused_for_good_is_not_retried_forever() -> None:
    refused = asyncpg.exceptions.ForeignKeyViolationError("the conversation is gone")
    assert not is_transient(as_sqlalchemy_raises(refused))
