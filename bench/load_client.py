"""Capacity of one replica over NiceGUI's own protocol, without a browser; prints figures.

    uv run python bench/load_client.py [--streams 10,25,50,100,200] [--tokens 150] [--tabs 250,500,1000,2000]
                                       [--profile N] [--replicas 2]

The app (`galaxy-chat --test-mode`) runs pinned to one core; this client and the scripted model (a thread,
bench/ui_bench_rig.py) to the other. Each tab is a different person (X-EMAIL-USER, believed in test mode)
speaking socket.io over a WebSocket like a browser (bench/load_tab.py). The model writes 50 tokens/s per
reply and stamps each write; a token's lag is from that write to the first message that carries it.

- streaming: N tabs send at once (with --stagger S: in turn over S seconds); p50/p95 token lag, app CPU per
  1,000 tokens, until p95 passes twice the target. The figure is the most replies with p95 <= 50 ms.
- idle tabs: the app's RSS with K connected idle tabs over its RSS before them, per tab.
- --profile N: py-spy samples the app while N replies stream; prints where its time goes.
- --redis: the app with REDIS_URL (a redis-server of its own beside the client), to see what coordination costs.
- --replicas 2: the streaming ladder on one replica (one core), then on two replicas, one per core, the tabs
  given to them in turn; prints the ratio of the most replies within the lag target.
Everything is on loopback and bounded: levels and counts are capped, every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from bench.load_profile import hot_spots, profile
from bench.load_tab import Tab
from bench.ui_bench_rig import App, Model, cores, percentile
from galaxy_chat.testing.redis_server import RedisServer

INTERVAL_S = 0.02  # 50 tokens/s per reply
LAG_TARGET_S = 0.05
MAX_STREAMS, MAX_TABS = 400, 2000
OPENING = 10  # tabs opening at once (more queue page builds past NiceGUI's 3 s response timeout)


class Load:
    def __init__(self, apps: list[App], model: Model, stagger_s: float = 0.0) -> None:
        self.apps, self.app, self.model = apps, apps[0], model
        self.stagger_s = stagger_s  # the tabs send over this long, in turn (0: all in the same moment)
        self.http = httpx.AsyncClient(limits=httpx.Limits(max_connections=OPENING * 2), timeout=60)
        self.users = 0
        self.page_timeouts = 0  # pages answered 500 (built too slowly), opened again

    async def open_tabs(self, count: int) -> list[Tab]:
        gate = asyncio.Semaphore(OPENING)

        async def one() -> Tab:
            self.users += 1  # tabs go to the replicas in turn, as a balancer with sticky sessions spreads them
            app = self.apps[self.users % len(self.apps)]
            tab = Tab(app.url, f"load-{self.users:05d}@load.test", self.http)
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
        cpu0, began, own0 = self.cpu_s(), time.monotonic(), time.process_time()
        stalls = [0.0]  # this client's own loop falling behind (other work on its core) inflates the lags
        watcher = asyncio.create_task(watch(stalls))
        async def send(index: int, tab: Tab) -> None:
            await asyncio.sleep(self.stagger_s * index / len(tabs))
            await tab.send("go", tokens - 1)

        await asyncio.gather(*(send(index, tab) for index, tab in enumerate(tabs)))
        deadline = tokens * INTERVAL_S * 3 + 30
        with contextlib.suppress(TimeoutError):  # a reply cut short shows as missing tokens
            await asyncio.wait_for(asyncio.gather(*(tab.done.wait() for tab in tabs)), deadline)
        cpu, elapsed, own = self.cpu_s() - cpu0, time.monotonic() - began, time.process_time() - own0
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

    def cpu_s(self) -> float:
        return sum(app.cpu_s() for app in self.apps)

    async def ladder(self, levels: list[int], tokens: int) -> int:
        """Stream at each level in turn (until p95 passes twice the target); the most replies within it."""
        await self.streaming(5 * len(self.apps), 30)  # the first replies after start-up pay for lazy imports
        print(f"streaming, {tokens} tokens per reply at {1 / INTERVAL_S:.0f} tokens/s, {len(self.apps)} replica(s):")
        print("  replies   p50 ms   p95 ms   CPU s/1k tokens   app CPU   messages/s   missing   client CPU, stall")
        best = 0
        for count in levels:
            r = await self.streaming(min(count, MAX_STREAMS), tokens)
            print(f"  {r['replies']:7.0f}  {r['p50_ms']:7.1f}  {r['p95_ms']:7.1f}  {r['cpu_per_1k']:16.3f}"
                  f"  {r['cpu_share']:7.0%}  {r['messages_per_s']:11.0f}  {r['missing']:8.0f}  {r['client_cpu']:10.0%}"
                  f" {r['client_stall_ms']:4.0f} ms")
            if r["p95_ms"] <= LAG_TARGET_S * 1000 and not r["missing"]:
                best = count
            elif r["p95_ms"] > 2 * LAG_TARGET_S * 1000 or r["missing"]:
                break
        print(f"most concurrent replies with p95 lag <= {LAG_TARGET_S * 1000:.0f} ms: {best}")
        return best

    async def aclose(self) -> None:
        await self.http.aclose()


async def watch(stalls: list[float], every_s: float = 0.01) -> None:
    """Append how late this loop wakes up, until cancelled."""
    while True:
        began = time.monotonic()
        await asyncio.sleep(every_s)
        stalls.append(time.monotonic() - began - every_s)


async def run(args: argparse.Namespace, app: App, model: Model) -> None:
    load = Load([app], model, args.stagger)
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
        if levels := [int(n) for n in args.streams.split(",") if n]:
            await load.ladder(levels, args.tokens)
            print("  (target >= 200 on one core)")
        counts = [min(int(n), MAX_TABS) for n in args.tabs.split(",") if int(n) > 0]  # --tabs 0: streaming only
        if counts:
            print("idle tabs (connected, each a person):")
            for count, rss, per_tab in await load.idle(counts):
                print(f"  {count:5d} tabs: app RSS {rss:7.1f} MB, {per_tab:.3f} MB per tab (target <= 0.3)")
            print(f"  pages that took over 3 s to build (500, opened again): {load.page_timeouts}")
    finally:
        await load.aclose()


async def ladder(apps: list[App], model: Model, levels: list[int], args: argparse.Namespace) -> int:
    load = Load(apps, model, args.stagger)
    try:
        return await load.ladder(levels, args.tokens)
    finally:
        await load.aclose()


def two_replicas(args: argparse.Namespace, folder: Path) -> None:
    """One replica on core 0 with this client and the model on core 1; then a replica on each core, with this
    client and the model sharing both (a 2-core machine has no third core for them): the ratio of the most
    replies within the lag target."""
    levels = [int(n) for n in args.streams.split(",") if n]
    model, both = Model(folder), set(sorted(os.sched_getaffinity(0))[:2])
    one_core, other_core = {min(both)}, {max(both)}

    def start(name: str, cores_: set[int], home: set[int]) -> App:
        (folder / name).mkdir()
        return App(folder / name, model, cores_, home, args.app_root)

    try:
        os.sched_setaffinity(0, other_core)
        app = start("one", one_core, other_core)
        try:
            one = asyncio.run(ladder([app], model, levels, args))
        finally:
            app.stop()
        os.sched_setaffinity(0, both)
        apps = [start("a", one_core, both), start("b", other_core, both)]
        try:
            two = asyncio.run(ladder(apps, model, [2 * n for n in levels], args))
        finally:
            for app in apps:
                app.stop()
    finally:
        model.stop()
    ratio = two / one if one else float("nan")
    print(f"two replicas on two cores / one on one core: {two} / {one} replies = {ratio:.2f}x (target >= 1.8;"
          " the client and the model share the replicas' cores: see its CPU column)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="10,25,50,100,200")
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--stagger", type=float, default=0.0,
                        help="the tabs press Enter over this many seconds, in turn (0: all at once)")
    parser.add_argument("--tabs", default="250,500,1000,2000")
    parser.add_argument("--profile", type=int, default=0, help="profile the app while this many replies stream")
    parser.add_argument("--app-root", type=Path, default=None, help="run the app from this copy (PYTHONPATH)")
    parser.add_argument("--redis", action="store_true", help="with REDIS_URL (a redis-server of its own)")
    parser.add_argument("--replicas", type=int, choices=(1, 2), default=1,
                        help="2: the streaming ladder on one replica, then on two (one per core)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20_000)), hard))  # the app inherits it
    if args.replicas == 2:
        with tempfile.TemporaryDirectory(prefix="galaxy-load-") as folder:
            two_replicas(args, Path(folder))
        return
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
