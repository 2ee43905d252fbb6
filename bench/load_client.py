"""Capacity of one replica over NiceGUI's own protocol, without a browser; prints figures.

    uv run python bench/load_client.py [--streams 10,25,50,100,200] [--tokens 150] [--tabs 250,500,1000,2000]
                                       [--profile N]

The app (`galaxy-chat --test-mode`) runs pinned to one core; this client and the scripted model (a thread,
bench/ui_bench_rig.py) to the other. Each tab is a different person (X-EMAIL-USER, believed in test mode)
speaking socket.io over a WebSocket like a browser (bench/load_tab.py). The model writes 50 tokens/s per
reply and stamps each write; a token's lag is from that write to the first message that carries it.

- streaming: N tabs send at once; p50/p95 token lag, app CPU per 1,000 tokens, until p95 passes twice the
  target. The figure is the most replies with p95 <= 50 ms.
- idle tabs: the app's RSS with K connected idle tabs over its RSS before them, per tab.
- --profile N: py-spy samples the app while N replies stream; prints where its time goes.
- --redis: the app with REDIS_URL (a redis-server of its own beside the client), to see what coordination costs.
Everything is on loopback and bounded: levels and counts are capped, every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from bench.load_tab import Tab
from bench.ui_bench_rig import App, Model, cores, percentile
from galaxy_chat.testing.redis_server import RedisServer

INTERVAL_S = 0.02  # 50 tokens/s per reply
LAG_TARGET_S = 0.05
MAX_STREAMS, MAX_TABS = 400, 2000
OPENING = 10  # tabs opening at once (more queue page builds past NiceGUI's 3 s response timeout)


class Load:
    def __init__(self, app: App, model: Model) -> None:
        self.app, self.model = app, model
        self.http = httpx.AsyncClient(limits=httpx.Limits(max_connections=OPENING * 2), timeout=60)
        self.users = 0
        self.page_timeouts = 0  # pages answered 500 (built too slowly), opened again

    async def open_tabs(self, count: int) -> list[Tab]:
        gate = asyncio.Semaphore(OPENING)

        async def one() -> Tab:
            self.users += 1
            tab = Tab(self.app.url, f"load-{self.users:05d}@load.test", self.http)
            async with gate:
                for attempt in range(3):
                    try:
                        await tab.open()
                        break
                    except httpx.HTTPStatusError:
                        self.page_timeouts += 1
                        if attempt == 2:
                            raise
                        await asyncio.sleep(1)
            return tab

        return list(await asyncio.gather(*(one() for _ in range(count))))

    async def streaming(self, count: int, tokens: int, tabs: list[Tab] | None = None) -> dict[str, float]:
        tabs = tabs or await self.open_tabs(count)
        for _ in tabs:
            self.model.script(tokens, INTERVAL_S)
        cpu0, began, own0 = self.app.cpu_s(), time.monotonic(), time.process_time()
        stalls = [0.0]  # this client's own loop falling behind (other work on its core) inflates the lags
        watcher = asyncio.create_task(watch(stalls))
        await asyncio.gather(*(tab.send("go", tokens - 1) for tab in tabs))
        deadline = tokens * INTERVAL_S * 3 + 30
        with contextlib.suppress(TimeoutError):  # a reply cut short shows as missing tokens
            await asyncio.wait_for(asyncio.gather(*(tab.done.wait() for tab in tabs)), deadline)
        cpu, elapsed, own = self.app.cpu_s() - cpu0, time.monotonic() - began, time.process_time() - own0
        lags, missing = [], 0
        for tab in tabs:
            emitted = self.model.emissions[tab.rid].emitted if tab.rid is not None else []
            missing += tokens - 1 - len(tab.seen)
            lags += [seen - emitted[seq] for seq, seen in tab.seen.items() if seq < len(emitted)]
        received = sum(tab.received for tab in tabs)
        watcher.cancel()
        await asyncio.gather(*(tab.close() for tab in tabs))
        return {"replies": count, "p50_ms": percentile(lags, 0.5) * 1000, "p95_ms": percentile(lags, 0.95) * 1000,
                "cpu_per_1k": cpu / (count * tokens / 1000), "cpu_share": cpu / elapsed, "missing": missing,
                "messages_per_s": received / elapsed, "client_cpu": own / elapsed,
                "client_stall_ms": max(stalls) * 1000}

    async def idle(self, counts: list[int]) -> list[tuple[int, float, float]]:
        warm = await self.open_tabs(20)  # first pages pay for imports and caches: not a tab's cost
        await asyncio.gather(*(tab.close() for tab in warm))
        await asyncio.sleep(2)
        base, tabs, rows, began = self.app.rss_mb(), [], [], time.monotonic()
        for count in counts:
            tabs += await self.open_tabs(count - len(tabs))
            await asyncio.sleep(2)  # let the app settle (sockets accepted, first messages sent)
            await asyncio.gather(*(tab.ack() for tab in tabs))
            await asyncio.sleep(1)
            rss = self.app.rss_mb()
            rows.append((count, rss, (rss - base) / count))
            print(f"  ({count} tabs open after {time.monotonic() - began:.0f} s)", flush=True)
        await asyncio.gather(*(tab.close() for tab in tabs))
        return rows

    async def aclose(self) -> None:
        await self.http.aclose()


async def watch(stalls: list[float], every_s: float = 0.01) -> None:
    """Append how late this loop wakes up, until cancelled."""
    while True:
        began = time.monotonic()
        await asyncio.sleep(every_s)
        stalls.append(time.monotonic() - began - every_s)


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-d", str(int(seconds)),
               "-r", "250", "-f", "raw", "-o", str(out), "--nonblocking", "--gil"]  # --gil: samples that run Python
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(out.parent / "py-spy.log").open("wb"))


STORE, MODEL, PAGE = "history store (SQLAlchemy, aiosqlite)", "reading the model's stream (httpx)", "the page"
SOCKET = "socket.io and the WebSocket"
AREAS = [  # a sample counts for the first of these found from the innermost frame outwards
    ("galaxy_chat/store/", STORE), ("aiosqlite/", STORE), ("sqlalchemy/", STORE),
    ("galaxy_chat/llm/", MODEL), ("httpx/", MODEL), ("httpcore/", MODEL), ("h11/", MODEL), ("anyio/", MODEL),
    ("galaxy_chat/ui/", PAGE), ("markdown/", PAGE), ("nh3", PAGE), ("nicegui/", "NiceGUI (outbox, elements)"),
    ("socketio/", SOCKET), ("engineio/", SOCKET), ("wsproto/", SOCKET), ("uvicorn/", SOCKET),
    ("galaxy_chat/core/session_log", "session log"), ("galaxy_chat/core/", "core (engine, session, recorder)"),
    ("asyncio/", "event loop"), ("selectors.py", "event loop"),
]


def frame_file(frame: str) -> str:
    return frame.partition(" (")[2].rsplit(":", 1)[0]


def hot_spots(raw: Path) -> list[tuple[str, float]]:
    """From py-spy's collapsed stacks: each area's share of all samples (see AREAS)."""
    areas: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        files = [frame_file(frame) for frame in reversed(stack.split(";"))]
        total += int(count)
        area = next((label for file in files for prefix, label in AREAS if prefix in file), "other")
        areas[area] += int(count)
    return [(name, c / max(1, total)) for name, c in areas.most_common()]


async def run(args: argparse.Namespace, app: App, model: Model) -> None:
    load = Load(app, model)
    try:
        if args.profile:
            out = Path(tempfile.mkdtemp()) / "profile.txt"
            tabs = await load.open_tabs(args.profile)
            spy = profile(app.pid, args.tokens * INTERVAL_S + 1, out)
            result = await load.streaming(args.profile, args.tokens, tabs)
            spy.wait(timeout=120)
            print(f"profile, {args.profile} replies streaming: p95 {result['p95_ms']:.0f} ms")
            print(f"  app CPU {result['cpu_share']:.0%} of its core; samples holding the GIL, by area:")
            for name, share in hot_spots(out):
                print(f"    {share:6.1%}  {name}")
            return
        best, levels = 0, [int(n) for n in args.streams.split(",") if n]
        if levels:  # the first replies after start-up pay for lazy imports and caches: not capacity
            await load.streaming(5, 30)
            print(f"streaming, {args.tokens} tokens per reply at {1 / INTERVAL_S:.0f} tokens/s:")
            print("  replies   p50 ms   p95 ms   CPU s/1k tokens   app CPU   messages/s   missing   client CPU, stall")
        for count in levels:
            r = await load.streaming(min(count, MAX_STREAMS), args.tokens)
            print(f"  {r['replies']:7.0f}  {r['p50_ms']:7.1f}  {r['p95_ms']:7.1f}  {r['cpu_per_1k']:16.3f}"
                  f"  {r['cpu_share']:7.0%}  {r['messages_per_s']:11.0f}  {r['missing']:8.0f}  {r['client_cpu']:10.0%}"
                  f" {r['client_stall_ms']:4.0f} ms")
            if r["p95_ms"] <= LAG_TARGET_S * 1000 and not r["missing"]:
                best = count
            elif r["p95_ms"] > 2 * LAG_TARGET_S * 1000 or r["missing"]:
                break
        if levels:
            print(f"most concurrent replies with p95 lag <= {LAG_TARGET_S * 1000:.0f} ms: {best} (target >= 200)")
        if args.tabs:
            print("idle tabs (connected, each a person):")
            for count, rss, per_tab in await load.idle([min(int(n), MAX_TABS) for n in args.tabs.split(",")]):
                print(f"  {count:5d} tabs: app RSS {rss:7.1f} MB, {per_tab:.3f} MB per tab (target <= 0.3)")
            print(f"  pages that took over 3 s to build (500, opened again): {load.page_timeouts}")
    finally:
        await load.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="10,25,50,100,200")
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--tabs", default="250,500,1000,2000")
    parser.add_argument("--profile", type=int, default=0, help="profile the app while this many replies stream")
    parser.add_argument("--app-root", type=Path, default=None, help="run the app from this copy (PYTHONPATH)")
    parser.add_argument("--redis", action="store_true", help="with REDIS_URL (a redis-server of its own)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20_000)), hard))  # the app inherits it
    app_cores, home_cores = cores()
    os.sched_setaffinity(0, home_cores)
    with tempfile.TemporaryDirectory(prefix="galaxy-load-") as folder, contextlib.ExitStack() as stack:
        model = Model(Path(folder))
        redis = {"REDIS_URL": stack.enter_context(RedisServer()).url} if args.redis else {}
        app = App(Path(folder), model, app_cores, home_cores, args.app_root, **redis)
        print(f"app on cores {sorted(app_cores)}, load client and model on {sorted(home_cores)}")
        try:
            asyncio.run(run(args, app, model))
        except Exception:
            lines = app.process.output().splitlines()
            faults = [n for n, line in enumerate(lines) if "ERROR" in line or "Traceback" in line][:2]
            print("the app's first faults and last lines:", *(lines[n] for n in faults), *lines[-4:], sep="\n  ")
            raise
        finally:
            app.stop()
            model.stop()


if __name__ == "__main__":
    main()
