"""The history store's errors: each message is one line a person can act on, and never holds a password."""

from __future__ import annotations


class StoreError(Exception):
    """Something about the history database stops the app; `str()` is one line for the console."""


class NotFound(StoreError):
    """The conversation or message does not exist, or belongs to someone else (the two look the same)."""


class DatabaseUnreadable(StoreError):
    """The SQLite file is damaged or cannot be read; the message names the file."""


class DatabaseTooNew(StoreError):
    """The database was upgraded by a newer version of the app than this one."""


class DatabaseNotUpgraded(StoreError):
    """The database is behind this version's schema: `galaxy-chat db upgrade` brings it up to date."""


class DatabaseUnavailable(StoreError):
    """The database server cannot be reached (the message names host and port, not the password)."""
