"""The history store at scale: list, search and load times on a seeded database, and the writer's cost
on the chat's event loop. Prints figures; not a test.

    uv run python bench/history_bench.py [--backend sqlite|postgresql|both] [--messages 1000000]

Seeds 10,000 conversations and 1,000,000 messages for one user plus 100 other users (bench/history_seed.py),
on SQLite (a temporary DATA_DIR) and on PostgreSQL (a throwaway server from galaxy_chat/testing/postgres.py),
then times the store's own calls in this process (server time: no HTTP, no rendering): the first page of
the history list, search over a set of queries (p95), loading a 500-message conversation, and a writer
streaming 300-token replies.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from bench.history_seed import Corpus, Plan, seed_postgres, seed_sqlite
from galaxy_chat.store import open_store, upgrade
from galaxy_chat.store.writer import HistoryWriter
from galaxy_chat.testing.postgres import PostgresServer

DONE = {"type": "done", "usage": {"input_tokens": 900, "output_tokens": 300}, "duration_s": 3.0,
        "first_token_s": 0.4, "rounds": 1, "stopped": False}


def queries(corpus: Corpus) -> list[str]:
    """What people type: common and rare topic words, two-word questions, half-typed words."""
    words = corpus.words
    common = ["python", "pandas error", "sales report", "kubernetes", "histogram", "docker deploy", "invoice",
              "password", "revenue forecast", "timezone", "regression model", "backup restore", "salary review"]
    rare = [words[rank] for rank in (400, 900, 2000, 5000, 9000, 15000, 22000, 29000)]
    pairs = [f"{words[a]} {words[b]}" for a, b in ((250, 1200), (600, 3000), (1500, 7000), (40, 8000))]
    prefixes = ["pyth", "kuber", "histo", words[1800][:4], words[6000][:5], "dataf"]
    return common + rare + pairs + prefixes


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms"


PIECES = [f" token{i}" for i in range(300)]
TOOL = [{"type": "tool_call_started", "call_id": "c1", "name": "sql", "arguments": "{}"},
        {"type": "tool_call_finished", "call_id": "c1", "name": "sql", "text": "ok", "is_error": False,
         "duration_s": 0.1, "widgets": [], "reduced_isolation": False}]


async def stream(writer: HistoryWriter | None, owner: str, cid: str, pause: float) -> None:
    """One 300-token reply with a tool call, as the chat hands it to the writer."""
    reply = None
    if writer is not None:
        writer.user_message(owner, cid, "Explain the quarterly revenue forecast", model="bench-model")
        reply = writer.reply_started(owner, cid, model="bench-model")
    for i, piece in enumerate(PIECES):
        if reply is not None:
            reply.text(piece)
            if i == 150:
                for record in TOOL:
                    reply.part(record)
        await asyncio.sleep(pause)
    if reply is not None:
        reply.finish(DONE)


async def lag_probe(lags: list[float], stop: asyncio.Event) -> None:
    """How late a 2 ms timer fires: what a busy loop does to every other page."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.002)
        lags.append((time.perf_counter() - start - 0.002) * 1000)


async def writer_cost(url: str, data_dir: Path, owner: str, replies: int = 30) -> list[str]:
    """CPU of the loop thread per reply with no writer, with a writer whose thread never starts (the calls
    alone) and with a running writer (the calls, plus what its thread costs the loop through the GIL); the
    replies run back to back (sleep(0) between tokens) so the loop does nothing else. Then the lateness of a
    2 ms timer while replies stream at 150 tokens/s, with and without the writer."""
    results, cpu = [], {}
    for label in ("no writer", "calls only", "writer"):
        writer = None if label == "no writer" else HistoryWriter(url, data_dir)
        cid = writer.conversation_created(owner, title="writer bench") if writer else ""
        if writer is not None and label == "writer":
            writer.start()
        start = time.thread_time()
        for _ in range(replies):
            await stream(writer, owner, cid, 0)
        cpu[label] = (time.thread_time() - start) * 1000 / replies
        if writer is not None and label == "writer":
            await writer.flush(60)
            await writer.aclose()
    results.append(f"  loop CPU per 300-token reply: no writer {cpu['no writer']:.2f} ms, calls only "
                   f"{cpu['calls only']:.2f} ms, running writer {cpu['writer']:.2f} ms -> the writer adds "
                   f"{cpu['writer'] - cpu['no writer']:.2f} ms")
    for label in ("no writer", "writer"):
        writer = HistoryWriter(url, data_dir) if label == "writer" else None
        cid = ""
        if writer is not None:
            writer.start()
            cid = writer.conversation_created(owner, title="writer lag bench")
        lags: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(lags, stop))
        for _ in range(4):
            await stream(writer, owner, cid, 1 / 150)
        stop.set()
        await probe
        if writer is not None:
            await writer.flush(60)
            await writer.aclose()
        lag = sorted(lags)
        results.append(f"  {label:9}: a 2 ms timer is late by p50 {statistics.median(lag):.2f} ms, "
                       f"p99 {lag[int(len(lag) * 0.99)]:.2f} ms (replies at 150 tokens/s)")
    return results


async def run_backend(name: str, url: str, data_dir: Path, plan: Plan, corpus: Corpus, writer_only: bool) -> None:
    print(f"\n== {name} ==", flush=True)
    await upgrade(url, data_dir)
    if writer_only:
        print("writer (empty database):")
        for line in await writer_cost(url, data_dir, plan.main_user):
            print(line)
        return
    start = time.perf_counter()
    if url:
        big = await seed_postgres(url.replace("postgresql://", "postgres://"), plan, corpus)
    else:
        big = await asyncio.to_thread(seed_sqlite, str(data_dir / "history.db"), plan, corpus)
    print(f"seeded {plan.conversations} conversations / ~{plan.messages:,} messages for one user and "
          f"{plan.other_users} other users in {time.perf_counter() - start:.0f} s", flush=True)
    store = await open_store(url, data_dir)
    owner = plan.main_user
    try:
        first = await store.list_conversations(owner, limit=30)
        print(f"history list, first page (30):  {describe(await timed(lambda: store.list_conversations(owner), 50))}")
        cursor = first.next_cursor
        print(f"history list, next page:        "
              f"{describe(await timed(lambda: store.list_conversations(owner, cursor=cursor), 50))}")
        times, hits = [], 0
        for query in queries(corpus):
            await store.search(owner, query)  # warm
            times += await timed(lambda q=query: store.search(owner, q), 3)
            hits += len(await store.search(owner, query))
        print(f"search ({len(queries(corpus))} queries x 3):      {describe(times)}   ({hits} hits listed)")
        view = await store.load_conversation(owner, big)
        assert view is not None
        print(f"load {len(view.messages)}-message conversation: "
              f"{describe(await timed(lambda: store.load_conversation(owner, big), 20))}")
        print("writer:", flush=True)
        for line in await writer_cost(url, data_dir, owner):
            print(line)
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--writer-only", action="store_true", help="only the writer's figures, on an empty database")
    args = parser.parse_args()
    plan, corpus = Plan(conversations=args.conversations, messages=args.messages), Corpus.make()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="history-bench-") as folder:
            await run_backend("SQLite", "", Path(folder), plan, corpus, args.writer_only)
    if args.backend in ("postgresql", "both"):
        with PostgresServer() as server, tempfile.TemporaryDirectory(prefix="history-bench-") as folder:
            await run_backend("PostgreSQL", server.url, Path(folder), plan, corpus, args.writer_only)


if __name__ == "__main__":
    asyncio.run(main())
