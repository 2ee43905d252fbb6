"""Full-text search over titles and message text: ranked, one hit per conversation, with a snippet.

The person's words become a query we build ourselves (never their syntax): every word must match, the
last one also as a prefix (search as you type), common English words are dropped when others remain.
Each owner's rows are read alone (SQLite: an id range per owner; PostgreSQL: the owner column). A word
matching thousands of messages is ranked among recent matches only, so a common word costs no more than
a rare one: SQLite takes the owner's POOL most recent matches; PostgreSQL looks at the newest WINDOW
search rows first, then 8 times as many, then all, until it has as many hits as asked for.
SQLite ranks with FTS5's bm25 (a title counts 4 times a message) and cuts snippets from the hits' text
(snippets.py says why not snippet()); PostgreSQL ranks with ts_rank over a tsvector whose title part has
weight A, and cuts with ts_headline (both read angle brackets as spaces: its parser takes them for markup).
Both mark the matching words with \\u0002 ... \\u0003, which indexed text never contains, and the
snippet is handed out as (text, highlighted) pieces for the page to escape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from galaxy_chat.store.indexing import owner_range
from galaxy_chat.store.snippets import START, STOP, cut
from galaxy_chat.store.types import Snippet

MAX_WORDS = 8
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "how", "i", "in", "is",
    "it", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where", "which", "who", "why",
    "will", "with", "you",
})
SNIPPET_TOKENS = 16
HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=12, ShortWord=2, MaxFragments=1"

POOL = 500  # a common word is ranked among the owner's most recent matches, so search stays fast
SQLITE_POOL = text("""
SELECT min(doc) FROM (SELECT rowid AS doc FROM search_fts WHERE search_fts MATCH :match
                      AND rowid BETWEEN :low AND :high ORDER BY rowid DESC LIMIT :pool)
""")
SQLITE_BEST = text("""
WITH hits AS MATERIALIZED (
  SELECT rowid AS doc, bm25(search_fts, 4.0, 1.0) AS score FROM search_fts
  WHERE search_fts MATCH :match AND rowid BETWEEN :low AND :high)
SELECT d.conversation_id, d.message_id, hits.doc, min(hits.score) AS best
FROM hits JOIN search_docs AS d ON d.id = hits.doc
GROUP BY d.conversation_id ORDER BY best LIMIT :limit
""")
SQLITE_TEXTS = text("SELECT id, title, body FROM search_docs WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))

WINDOW = 50_000  # PostgreSQL: the newest search rows looked at first (the ids come from one sequence)
POSTGRES_NEWEST = text("SELECT coalesce(max(id), 0) FROM search_docs")
POSTGRES_BEST = text("""
WITH q AS (SELECT to_tsquery('english', :query) AS query),
best AS (
  SELECT DISTINCT ON (d.conversation_id) d.conversation_id, d.message_id, d.id, ts_rank(d.tsv, q.query, 1) AS score
  FROM search_docs AS d, q WHERE d.owner = :owner AND d.tsv @@ q.query AND d.id > :since
  ORDER BY d.conversation_id, score DESC)
SELECT conversation_id, message_id, id, score FROM best ORDER BY score DESC LIMIT :limit
""")
POSTGRES_SNIPPETS = text("""
SELECT d.id, ts_headline('english',
                         translate(CASE WHEN d.message_id IS NULL THEN d.title ELSE d.body END, '<>', '  '),
                         to_tsquery('english', :query), :options)
FROM search_docs AS d WHERE d.id IN :ids
""").bindparams(bindparam("ids", expanding=True))


def words_of(query: str) -> list[str]:
    words = [word for word in re.findall(r"\w+", query.lower()) if word.strip("_")]
    kept = [word for word in words if word not in STOPWORDS]
    return (kept or words)[:MAX_WORDS]


def fts5_query(words: Sequence[str], prefix: bool) -> str:
    terms = [f'"{word}"' for word in words]
    if prefix and len(words[-1]) >= 3:
        terms[-1] += "*"
    return " ".join(terms)


def tsquery(words: Sequence[str], prefix: bool) -> str:
    terms = [f"'{word}'" for word in words]
    if prefix and len(words[-1]) >= 3:
        terms[-1] += ":*"
    return " & ".join(terms)


def pieces(marked: str) -> Snippet:
    """'a \\u0002b\\u0003 c' -> [('a ', False), ('b', True), (' c', False)]."""
    result: Snippet = []
    for chunk in re.split(f"({START}[^{STOP}]*{STOP})", marked):
        if chunk.startswith(START) and chunk.endswith(STOP):
            result.append((chunk[1:-1], True))
        elif chunk:
            result.append((chunk.replace(START, "").replace(STOP, ""), False))
    return result


async def best_matches(conn: AsyncConnection, owner: str, query: str, limit: int) -> list[tuple[Any, ...]]:
    """(conversation_id, message_id, doc id, rank, marked snippet) per conversation, best first."""
    words = words_of(query)
    if not words:
        return []
    prefix = not query.endswith((" ", "\t", "\n"))
    if conn.dialect.name == "postgresql":
        q = tsquery(words, prefix)
        newest = (await conn.execute(POSTGRES_NEWEST)).scalar_one()
        for window in (WINDOW, WINDOW * 8, newest):  # too few hits among the newest rows: look further back
            values = {"query": q, "owner": owner, "limit": limit, "since": newest - window}
            best = (await conn.execute(POSTGRES_BEST, values)).all()
            if len(best) >= limit or window >= newest:
                break
        if not best:
            return []
        rows = await conn.execute(POSTGRES_SNIPPETS, {"query": q, "options": HEADLINE, "ids": [b[2] for b in best]})
        marked = {doc_id: headline for doc_id, headline in rows}
        return [(cid, mid, doc_id, float(score), marked.get(doc_id, "")) for cid, mid, doc_id, score in best]
    span = await owner_range(conn, owner)
    if span is None:
        return []
    match, (low, high) = fts5_query(words, prefix), span
    start = (await conn.execute(SQLITE_POOL, {"match": match, "low": low, "high": high, "pool": POOL})).scalar()
    if start is None:
        return []
    best = (await conn.execute(SQLITE_BEST, {"match": match, "low": start, "high": high, "limit": limit})).all()
    if not best:
        return []
    texts = {doc_id: (title, body) for doc_id, title, body in await conn.execute(
        SQLITE_TEXTS, {"ids": [b[2] for b in best]})}
    found = []
    for cid, mid, doc_id, score in best:
        title, body = texts.get(doc_id, ("", ""))
        marked = cut(title, words, prefix, whole=True) if mid is None else cut(body, words, prefix, SNIPPET_TOKENS)
        found.append((cid, mid, doc_id, -float(score), marked))
    return found
