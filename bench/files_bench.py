"""Uploading a table: time from `Uploads.accept()` to queryable, and the peak memory it costs. Prints
figures; not a test.

    uv run python bench/files_bench.py [--mb 50] [--runs 3]

Writes a CSV of about `--mb` MB (9 columns: integers, decimals, dates, short and long text, a code with
leading zeros), then for each run accepts it into a fresh chat (SQLite history store in a temporary
DATA_DIR) and runs one query on the resulting table through the hardened read-only connection. Peak memory
is the process's high-water mark (VmHWM) after resetting it (/proc/self/clear_refs) right before accept,
minus the resident size at that moment. The event loop's worst delay while the import runs in its worker
thread is measured by a task that sleeps 10 ms in a loop.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from galaxy_chat.data.sqlite_readonly import run_query_sync
from galaxy_chat.files import Uploads
from galaxy_chat.store import open_store, upgrade

OWNER = "bench@example.com"
MB = 1024 * 1024


def write_csv(path: Path, size_mb: int) -> int:
    """A CSV of about `size_mb` MB; returns its rows."""
    rng = random.Random(7)
    regions = ["EMEA", "APAC", "AMER", "LATAM"]
    words = ["laptop", "monitor", "dock", "keyboard", "headset", "cable", "tablet", "phone", "charger"]
    rows = 0
    with path.open("w") as out:
        out.write("id,region,product,units,unit_price,discount,order_date,zip,comment\n")
        while out.tell() < size_mb * MB - 200_000:  # under the limit: a batch is ~90 KB
            lines = []
            for _ in range(1000):
                rows += 1
                lines.append(f"{rows},{rng.choice(regions)},{rng.choice(words)},{rng.randint(1, 500)},"
                             f"{rng.uniform(5, 3000):.2f},{rng.random():.3f},2024-{rng.randint(1, 12):02d}-"
                             f"{rng.randint(1, 28):02d},0{rng.randint(1000, 9999)},"
                             f"\"{' '.join(rng.choices(words, k=rng.randint(1, 6)))}\"\n")
            out.write("".join(lines))
    return rows


def memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


async def ticker(lags: list[float]) -> None:
    while True:
        began = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - began - 0.01)


async def one_run(data_dir: Path, source: Path) -> tuple[float, float, float, int]:
    await upgrade("", data_dir)
    store = await open_store("", data_dir)
    try:
        uploads = Uploads(store, data_dir)
        chat = await store.create_conversation(OWNER)
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size
        before = memory_kb("VmRSS")
        lags: list[float] = []
        tick = asyncio.ensure_future(ticker(lags))
        began = time.perf_counter()
        file = await uploads.accept(OWNER, chat, "orders.csv", source)
        tick.cancel()
        database = uploads.table_database(OWNER, chat)
        assert database is not None
        result = run_query_sync(database, "SELECT region, sum(units) FROM orders GROUP BY region",
                                timeout_s=30, row_limit=10)
        elapsed = time.perf_counter() - began
        peak = memory_kb("VmHWM") - before
        assert len(result.rows) == 4
        return elapsed, peak / 1024, max(lags, default=0.0), file.meta["rows"]
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "orders.csv"
        rows = write_csv(source, args.mb)
        size_mb = source.stat().st_size / MB
        print(f"CSV: {size_mb:.1f} MB, {rows:,} rows x 9 columns")
        times, peaks = [], []
        for number in range(args.runs):
            elapsed, peak, lag, imported = await one_run(Path(folder) / f"data{number}", source)
            assert imported == rows
            times.append(elapsed)
            peaks.append(peak)
            print(f"run {number + 1}: accept -> queryable {elapsed:.2f} s, peak memory +{peak:.0f} MB, "
                  f"event loop delayed {lag * 1000:.0f} ms at worst")
        print(f"median: {statistics.median(times):.2f} s ({rows / statistics.median(times):,.0f} rows/s), "
              f"peak memory +{max(peaks):.0f} MB ({max(peaks) / size_mb:.2f}x the file)")


if __name__ == "__main__":
    asyncio.run(main())
