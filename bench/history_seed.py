"""Synthetic history for bench/history_bench.py: one heavy user, many light ones, bulk-inserted.

Text is drawn from a Zipf-like vocabulary: a few hundred real words at the head (so queries read like
real ones) and a long tail of made-up words. Rows go straight in with the drivers' bulk paths (sqlite3
executemany in one transaction; asyncpg COPY, with the GIN index built after the load), in the same
shape the store writes: a user message is one text part, a reply a text part and a done part, and each
message has its search row.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from galaxy_chat.store.indexing import preview_of
from galaxy_chat.store.schema import OWNER_BITS

# Function words first, as in real text: topic words then start near rank 60 and appear in a few percent of
# messages, not in nearly all of them.
FUNCTION_WORDS = """the of and to a in is it you that for on with as this be are or not can your at by from
have if we an but will which do all they use so one more there their what about when then also how each other
"""
HEAD_TEXT = FUNCTION_WORDS + """
python pandas dataframe error plot chart sales revenue customer report query table column join sql
database index search model training data csv excel file upload api request response server deploy docker
kubernetes cluster node memory cpu latency cache redis postgres backup restore user login password token
email invoice budget forecast quarter region market price product order shipping delivery refund policy
contract legal review meeting schedule calendar summary draft letter translate french german spanish
meaning definition example function class method loop list dict string number date time timezone regex
test bug fix crash exception traceback log monitor alert metric dashboard grafana histogram median average
variance regression classification cluster embedding vector similarity prompt answer question explain
compare difference between better faster slower cheaper optimise improve performance benchmark profile
thread async await event stream socket http json yaml config setting environment variable secret key
permission role group team manager employee salary holiday leave office travel expense approval workflow
ticket incident outage retention privacy gdpr compliance audit security vulnerability patch upgrade version
release changelog feature request roadmap design architecture diagram component service interface protocol
"""
HEAD = list(dict.fromkeys(HEAD_TEXT.split()))
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "sa", "do", "gu", "bel", "mor", "tin",
             "var", "shi", "qua", "ren", "lix"]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    words, seen = list(HEAD), set(HEAD)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


@dataclass
class Corpus:
    words: list[str]
    weights: np.ndarray

    @classmethod
    def make(cls, size: int = 30_000, seed: int = 7) -> Corpus:
        ranks = np.arange(1, size + 1)
        weights = 1.0 / ranks**1.05
        return cls(vocabulary(size, random.Random(seed)), weights / weights.sum())

    def texts(self, lengths: np.ndarray, rng: np.random.Generator) -> Iterator[str]:
        picks = rng.choice(len(self.words), size=int(lengths.sum()), p=self.weights)
        words, start = self.words, 0
        for length in lengths:
            chunk = picks[start:start + length]
            start += length
            yield " ".join(words[i] for i in chunk).capitalize() + "."


@dataclass
class Plan:
    main_user: str = "heavy@example.com"
    conversations: int = 10_000
    messages: int = 1_000_000
    other_users: int = 100
    other_conversations: int = 10  # each
    other_messages: int = 20  # per conversation
    big: int = 500  # messages in conversation 0 of the main user (the load test)


def rows(plan: Plan, corpus: Corpus, seed: int = 11) -> Iterator[tuple[str, dict, list, list, list]]:
    """Per conversation: (owner's slot, conversation row, message rows, part rows, search rows)."""
    rng = np.random.default_rng(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    per = max(2, (plan.messages - plan.big) // max(plan.conversations - 1, 1))
    owners = [(plan.main_user, plan.conversations)] + [
        (f"user{u:03d}@example.com", plan.other_conversations) for u in range(plan.other_users)]
    serial = itertools.count()
    for slot, (owner, count) in enumerate(owners, start=1):
        doc_ids = itertools.count(slot << OWNER_BITS)  # SQLite's per-owner id range (schema.py)
        for c in range(count):
            size = plan.big if owner == plan.main_user and c == 0 else (
                per if owner == plan.main_user else plan.other_messages)
            cid = f"c{next(serial):07d}-{rng.integers(1 << 40):x}"
            created = start + timedelta(minutes=int(rng.integers(0, 525_600)))
            lengths = np.where(np.arange(size) % 2 == 0, rng.integers(5, 20, size), rng.integers(20, 70, size))
            texts = list(corpus.texts(lengths, rng))
            title = " ".join(texts[0].rstrip(".").split()[:6])
            msgs, parts, docs = [], [], [(next(doc_ids), cid, None, owner, title, "")]
            parent = None
            for i, text in enumerate(texts):
                mid = f"{int(created.timestamp() * 1e6) + i:014x}{next(serial):010x}"
                at = created + timedelta(seconds=20 * i)
                role = "user" if i % 2 == 0 else "assistant"
                msgs.append((mid, cid, parent, i, 1, role, "bench-model", at))
                parts.append((mid, 0, "text_delta", json.dumps({"type": "text_delta", "text": text})))
                if role == "assistant":
                    done = {"type": "done", "usage": {"input_tokens": 50, "output_tokens": len(text) // 4},
                            "duration_s": 2.0, "first_token_s": 0.4, "rounds": 1, "stopped": False}
                    parts.append((mid, 1, "done", json.dumps(done)))
                docs.append((next(doc_ids), cid, mid, owner, "", text))
                parent = mid
            updated = created + timedelta(seconds=20 * size)
            conversation = {"id": cid, "owner": owner, "title": title, "preview": preview_of(texts[-1]),
                            "created_at": created, "updated_at": updated, "pinned": c % 500 == 1}
            yield slot, conversation, msgs, parts, docs


def seed_sqlite(path: str, plan: Plan, corpus: Corpus) -> str:
    """Fill an upgraded SQLite file; returns the main user's 500-message conversation id."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    big = ""
    iso = "%Y-%m-%d %H:%M:%S.%f"
    with db:
        for slot, conv, msgs, parts, docs in rows(plan, corpus):
            big = big or conv["id"]
            db.execute("INSERT OR IGNORE INTO search_owners VALUES (?, ?)", (conv["owner"], slot))
            db.execute("INSERT INTO conversations (id, owner, title, preview, created_at, updated_at, pinned) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (conv["id"], conv["owner"], conv["title"], conv["preview"],
                       conv["created_at"].strftime(iso), conv["updated_at"].strftime(iso), conv["pinned"]))
            db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(*m[:7], m[7].strftime(iso)) for m in msgs])
            db.executemany("INSERT INTO parts VALUES (?, ?, ?, ?)", parts)
            db.executemany("INSERT INTO search_docs (id, conversation_id, message_id, owner, title, body) "
                           "VALUES (?, ?, ?, ?, ?, ?)", docs)
    db.execute("PRAGMA optimize")
    db.execute("ANALYZE")
    db.close()
    return big


async def seed_postgres(url: str, plan: Plan, corpus: Corpus) -> str:
    import asyncpg

    db = await asyncpg.connect(url)
    big = ""
    await db.execute("DROP INDEX ix_search_docs_tsv")
    batch: dict[str, list] = {"conversations": [], "messages": [], "parts": [], "search_docs": []}

    async def flush() -> None:
        await db.copy_records_to_table("conversations", records=batch["conversations"], columns=[
            "id", "owner", "title", "preview", "created_at", "updated_at", "pinned"])
        await db.copy_records_to_table("messages", records=batch["messages"])
        await db.copy_records_to_table("parts", records=batch["parts"])
        await db.copy_records_to_table("search_docs", records=[doc[1:] for doc in batch["search_docs"]], columns=[
            "conversation_id", "message_id", "owner", "title", "body"])  # ids from the sequence, as the app's
        for rows_ in batch.values():
            rows_.clear()

    for _slot, conv, msgs, parts, docs in rows(plan, corpus):
        big = big or conv["id"]
        batch["conversations"].append(tuple(conv[k] for k in (
            "id", "owner", "title", "preview", "created_at", "updated_at", "pinned")))
        batch["messages"] += msgs
        batch["parts"] += parts
        batch["search_docs"] += docs
        if len(batch["messages"]) > 50_000:
            await flush()
    await flush()
    await db.execute("SET maintenance_work_mem = '512MB'")
    await db.execute("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)")
    await db.execute("ANALYZE")
    await db.close()
    return big
