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

INTERVAL_S = 0.02  # 50 tokens/s per reply
LAG_TARGET_S = 0.05
MAX_STREAMS, MAX_TABS = 400, 2000
OPENING = 25  # tabs opening at once


class Load:
    def __init__(self, app: App, model: Model) -> None:
        self.app, self.model = app, model
        self.http = httpx.AsyncClient(limits=httpx.Limits(max_connections=OPENING * 2), timeout=60)
        self.users = 0

    async def open_tabs(self, count: int) -> list[Tab]:
        gate = asyncio.Semaphore(OPENING)

        async def one() -> Tab:
            self.users += 1
            tab = Tab(self.app.url, f"load-{self.users:05d}@load.test", self.http)
            async with gate:
                await tab.open()
            return tab

        return list(await asyncio.gather(*(one() for _ in range(count))))

    async def streaming(self, count: int, tokens: int) -> dict[str, float]:
        tabs = await self.open_tabs(count)
        for _ in tabs:
            self.model.script(tokens, INTERVAL_S)
        cpu0, began = self.app.cpu_s(), time.monotonic()
        await asyncio.gather(*(tab.send("go", tokens - 1) for tab in tabs))
        deadline = tokens * INTERVAL_S * 3 + 30
        with contextlib.suppress(TimeoutError):  # a reply cut short shows as missing tokens
            await asyncio.wait_for(asyncio.gather(*(tab.done.wait() for tab in tabs)), deadline)
        cpu, elapsed = self.app.cpu_s() - cpu0, time.monotonic() - began
        lags, missing = [], 0
        for tab in tabs:
            emitted = self.model.emissions[tab.rid].emitted if tab.rid is not None else []
            missing += tokens - 1 - len(tab.seen)
            lags += [seen - emitted[seq] for seq, seen in tab.seen.items() if seq < len(emitted)]
        received = sum(tab.received for tab in tabs)
        await asyncio.gather(*(tab.close() for tab in tabs))
        return {"replies": count, "p50_ms": percentile(lags, 0.5) * 1000, "p95_ms": percentile(lags, 0.95) * 1000,
                "cpu_per_1k": cpu / (count * tokens / 1000), "cpu_share": cpu / elapsed, "missing": missing,
                "messages_per_s": received / elapsed}

    async def idle(self, counts: list[int]) -> list[tuple[int, float, float]]:
        warm = await self.open_tabs(20)  # first pages pay for imports and caches: not a tab's cost
        await asyncio.gather(*(tab.close() for tab in warm))
        await asyncio.sleep(2)
        base, tabs, rows = self.app.rss_mb(), [], []
        for count in counts:
            tabs += await self.open_tabs(count - len(tabs))
            await asyncio.sleep(2)  # let the app settle (sockets accepted, first messages sent)
            await asyncio.gather(*(tab.ack() for tab in tabs))
            await asyncio.sleep(1)
            rss = self.app.rss_mb()
            rows.append((count, rss, (rss - base) / count))
        await asyncio.gather(*(tab.close() for tab in tabs))
        return rows

    async def aclose(self) -> None:
        await self.http.aclose()


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "py_spy", "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250",
               "-f", "raw", "-o", str(out), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hot_spots(raw: Path, most: int = 18) -> list[tuple[str, float]]:
    """Share of samples per function anywhere on the stack (inclusive), from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = {frame.split(" (")[0] + " " + frame.split("/")[-1].split(":")[0].rstrip(")")
                  for frame in stack.split(";")}
        total += int(count)
        for frame in frames:
            inclusive[frame] += int(count)
    return [(name, count / max(1, total)) for name, count in inclusive.most_common(most)]


async def run(args: argparse.Namespace, app: App, model: Model) -> None:
    load = Load(app, model)
    try:
        if args.profile:
            out = Path(tempfile.mkdtemp()) / "profile.txt"
            spy = profile(app.pid, args.tokens * INTERVAL_S + 2, out)
            result = await load.streaming(args.profile, args.tokens)
            spy.wait(timeout=120)
            print(f"profile, {args.profile} replies streaming: p95 {result['p95_ms']:.0f} ms")
            for name, share in hot_spots(out):
                print(f"  {share:6.1%}  {name}")
            return
        best = 0
        print(f"streaming, {args.tokens} tokens per reply at {1 / INTERVAL_S:.0f} tokens/s:")
        print("  replies   p50 ms   p95 ms   CPU s/1k tokens   app CPU   messages/s   tokens missing")
        for count in [int(n) for n in args.streams.split(",")]:
            r = await load.streaming(min(count, MAX_STREAMS), args.tokens)
            print(f"  {r['replies']:7.0f}  {r['p50_ms']:7.1f}  {r['p95_ms']:7.1f}  {r['cpu_per_1k']:16.3f}"
                  f"  {r['cpu_share']:7.0%}  {r['messages_per_s']:11.0f}  {r['missing']:14.0f}")
            if r["p95_ms"] <= LAG_TARGET_S * 1000 and not r["missing"]:
                best = count
            elif r["p95_ms"] > 2 * LAG_TARGET_S * 1000 or r["missing"]:
                break
        print(f"most concurrent replies with p95 lag <= {LAG_TARGET_S * 1000:.0f} ms: {best} (target >= 200)")
        if args.tabs:
            print("idle tabs (connected, each a person):")
            for count, rss, per_tab in await load.idle([min(int(n), MAX_TABS) for n in args.tabs.split(",")]):
                print(f"  {count:5d} tabs: app RSS {rss:7.1f} MB, {per_tab:.3f} MB per tab (target <= 0.3)")
    finally:
        await load.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="10,25,50,100,200")
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--tabs", default="250,500,1000,2000")
    parser.add_argument("--profile", type=int, default=0, help="profile the app while this many replies stream")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20_000)), hard))  # the app inherits it
    app_cores, home_cores = cores()
    os.sched_setaffinity(0, home_cores)
    with tempfile.TemporaryDirectory(prefix="galaxy-load-") as folder:
        model = Model(Path(folder))
        app = App(Path(folder), model, app_cores, home_cores, None)
        print(f"app on cores {sorted(app_cores)}, load client and model on {sorted(home_cores)}")
        try:
            asyncio.run(run(args, app, model))
        finally:
            app.stop()
            model.stop()


if __name__ == "__main__":
    main()
