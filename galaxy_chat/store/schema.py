"""The tables, as SQLAlchemy Core objects shared by the SQLite and PostgreSQL stores.

conversations  one row per chat: its metadata (the only rows ever updated)
messages       one row per message, never updated: parent, position, version, role, model
parts          one row per event record of a message, appended in order (seq), never updated
search_docs    what search looks in: a title row per chat and a row per finished message's text. SQLite
               indexes it with an FTS5 table kept in step by triggers, PostgreSQL with a generated
               tsvector column and a GIN index (both made by the migration, not declared here).
search_owners  SQLite only: the slot that gives each owner's search rows their own id range.
files          one row per file uploaded to a chat (its bytes live on disk, see galaxy_chat/files)

The migrations in migrations/versions/ create these; this module is what the queries are written against.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: PostgreSQL's timestamptz; on SQLite, naive UTC text that sorts right."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite makes an INTEGER PRIMARY KEY the rowid (what FTS5's external content refers to).
RowId = BigInteger().with_variant(Integer(), "sqlite")

conversations = Table(
    "conversations", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(320), nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("models", Text, nullable=False, server_default="[]"),  # JSON lists
    Column("tools", Text, nullable=False, server_default="[]"),
    Column("data_sources", Text, nullable=False, server_default="[]"),
    Column("preview", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("pinned", Boolean, nullable=False, server_default=text("false")),
    Column("deleted_at", UTCDateTime, nullable=True),
    # The reply being written and until when its writer promised to write again (a lease, renewed).
    Column("writing_message", String(64), nullable=True),
    Column("writing_until", UTCDateTime, nullable=True),
)
Index("ix_conversations_list", conversations.c.owner, conversations.c.pinned, conversations.c.updated_at,
      conversations.c.id, sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL"))
Index("ix_conversations_updated", conversations.c.updated_at)
Index("ix_conversations_deleted", conversations.c.deleted_at,
      sqlite_where=text("deleted_at IS NOT NULL"), postgresql_where=text("deleted_at IS NOT NULL"))

messages = Table(
    "messages", metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(64), nullable=True),
    Column("position", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("role", String(32), nullable=False),
    Column("model", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_messages_conversation", messages.c.conversation_id, messages.c.position, messages.c.version)

parts = Table(
    "parts", metadata,
    Column("message_id", String(64), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("data", Text, nullable=False),  # the record as compact JSON
)

search_docs = Table(
    "search_docs", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", String(64), nullable=True),  # None: the conversation's title
    Column("owner", String(320), nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False, server_default=""),
)
Index("ix_search_docs_conversation", search_docs.c.conversation_id)

# SQLite: each owner's search rows get ids in a range of their own (slot << OWNER_BITS ...), so a search reads
# one owner's postings with a rowid range, which FTS5 seeks to, instead of a filter over everyone's matches.
OWNER_BITS = 36
search_owners = Table(
    "search_owners", metadata,
    Column("owner", String(320), primary_key=True),
    Column("slot", BigInteger, nullable=False, unique=True),
)
Index("ix_search_docs_owner", search_docs.c.owner)

files = Table(
    "files", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(320), nullable=False),
    Column("conversation_id", String(64), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", String(64), nullable=True),  # the message it was sent with, once sent
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("meta", Text, nullable=False, server_default="{}"),  # JSON: rows, columns, pages, table name ...
)
Index("ix_files_conversation", files.c.conversation_id, files.c.created_at)
Index("ix_files_owner", files.c.owner)
