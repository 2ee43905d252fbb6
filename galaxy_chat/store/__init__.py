"""The conversation-history store: every chat's messages, kept so a page can show it again, list it and
search it. SQLite (one file, DATA_DIR/history.db) by default, PostgreSQL when DATABASE_URL is set.

Public API (everything else in this package is internal):

    await upgrade(database_url, data_dir)       # at start, from any number of processes (migrations/)
    store = await open_store(database_url, data_dir)  # -> HistoryStore (types.py has the protocol)
    writer = HistoryWriter(database_url, data_dir)    # the chat's non-blocking path (writer.py)

Errors are StoreError subclasses whose message is one line (errors.py). Event records are stored as the
opaque JSON dicts they are; a message's text is its `text_delta` parts, its status is derived (types.py).
"""

from galaxy_chat.store.errors import (
    DatabaseNotUpgraded,
    DatabaseTooNew,
    DatabaseUnavailable,
    DatabaseUnreadable,
    NotFound,
    StoreError,
)
from galaxy_chat.store.migrate import open_store, upgrade
from galaxy_chat.store.types import (
    ConversationMeta,
    ConversationView,
    FileRecord,
    HistoryStore,
    ImportReport,
    ListItem,
    ListPage,
    MessageStatus,
    SearchHit,
    Snippet,
    StoredMessage,
)
from galaxy_chat.store.writer import HistoryWriter, Reply

__all__ = [
    "ConversationMeta",
    "ConversationView",
    "DatabaseNotUpgraded",
    "DatabaseTooNew",
    "DatabaseUnavailable",
    "DatabaseUnreadable",
    "FileRecord",
    "HistoryStore",
    "HistoryWriter",
    "ImportReport",
    "ListItem",
    "ListPage",
    "MessageStatus",
    "NotFound",
    "Reply",
    "SearchHit",
    "Snippet",
    "StoreError",
    "StoredMessage",
    "open_store",
    "upgrade",
]
