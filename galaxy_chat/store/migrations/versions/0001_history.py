"""The history store's first schema: conversations, messages, parts and the search index.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from galaxy_chat.store.schema import RowId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_docs', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN INSERT INTO search_fts(rowid, title, body) "
    "VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN INSERT INTO search_fts(search_fts, rowid, "
    "title, body) VALUES ('delete', old.id, old.title, old.body); END",
]
# PostgreSQL's parser reads <...> as markup and skips what a <script> holds: chat text is not HTML, so
# angle brackets are read as spaces.
POSTGRES_TSV = [
    "ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', translate(title, '<>', '  ')), 'A') || "
    "setweight(to_tsvector('english', translate(body, '<>', '  ')), 'B')) STORED",
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)",
]


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("models", sa.Text, nullable=False, server_default="[]"),
        sa.Column("tools", sa.Text, nullable=False, server_default="[]"),
        sa.Column("data_sources", sa.Text, nullable=False, server_default="[]"),
        sa.Column("preview", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("deleted_at", UTCDateTime, nullable=True),
        sa.Column("writing_message", sa.String(64), nullable=True),
        sa.Column("writing_until", UTCDateTime, nullable=True),
    )
    live = sa.text("deleted_at IS NULL")
    op.create_index("ix_conversations_list", "conversations", ["owner", "pinned", "updated_at", "id"],
                    sqlite_where=live, postgresql_where=live)
    op.create_index("ix_conversations_updated", "conversations", ["updated_at"])
    deleted = sa.text("deleted_at IS NOT NULL")
    op.create_index("ix_conversations_deleted", "conversations", ["deleted_at"],
                    sqlite_where=deleted, postgresql_where=deleted)
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "position", "version"])
    op.create_table(
        "parts",
        sa.Column("message_id", sa.String(64), sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "search_docs",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "search_owners",
        sa.Column("owner", sa.String(320), primary_key=True),
        sa.Column("slot", sa.BigInteger, nullable=False, unique=True),
    )
    op.create_index("ix_search_docs_conversation", "search_docs", ["conversation_id"])
    op.create_index("ix_search_docs_owner", "search_docs", ["owner"])
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TSV:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    for table in ("search_owners", "search_docs", "parts", "messages", "conversations"):
        op.drop_table(table)
