"""What the monitoring costs, piece by piece, in this process (no server): a reply's metrics, an HTTP request
through the metrics middleware, a span with tracing off and on, and one scrape of /metrics.

    uv run python bench/observability_bench.py [--n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from galaxy_chat.observability import metrics, tracing
from galaxy_chat.observability.replies import ReplyWatch
from galaxy_chat.testing.otlp_receiver import OtlpReceiver
from galaxy_chat.vocabulary.events import Done, ToolCallFinished, ToolCallStarted, Usage
from galaxy_chat.web.http_metrics import HttpMetricsMiddleware


def per_call_us(run: Callable[[], None], n: int) -> float:
    best = float("inf")
    for _ in range(3):  # the best of three: the machine is shared
        began = time.perf_counter()
        for _ in range(n):
            run()
        best = min(best, time.perf_counter() - began)
    return best / n * 1e6


def reply() -> None:
    watch = ReplyWatch("Bench model")
    watch.see(ToolCallStarted("c1", "calculator", "{}"))
    watch.see(ToolCallFinished("c1", "calculator", "42", False, 0.01, [], False))
    watch.see(Done(Usage(120, 40), 1.5, 0.3, 2))


async def app(scope: dict, receive: Callable, send: Callable) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def http_cost_us(n: int) -> tuple[float, float]:
    wrapped = HttpMetricsMiddleware(app, routes=lambda: [])
    scope = {"type": "http", "method": "GET", "path": "/health", "route": type("R", (), {"path": "/health"})()}

    async def noop(_: dict) -> None:
        return None

    async def many(handler: Callable) -> float:
        began = time.perf_counter()
        for _ in range(n):
            await handler(scope, None, noop)
        return (time.perf_counter() - began) / n * 1e6

    bare = min(asyncio.run(many(app)) for _ in range(3))
    measured = min(asyncio.run(many(wrapped)) for _ in range(3))
    return bare, measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    n = parser.parse_args().n
    print(f"one reply's metrics (start, a tool call, Done):  {per_call_us(reply, n):6.2f} µs")
    bare, measured = http_cost_us(n)
    print(f"HTTP request through the metrics middleware:    {measured - bare:6.2f} µs added ({bare:.2f} µs bare)")
    def one_span() -> None:
        with tracing.span("x", **{"galaxy_chat.tool": "calculator"}):
            pass

    print(f"a span with tracing off:                        {per_call_us(one_span, n):6.2f} µs")
    receiver = OtlpReceiver()
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
    tracing.configure(os.environ)
    print(f"a span with tracing on (batched OTLP export):   {per_call_us(one_span, n // 10):6.2f} µs")
    tracing.shutdown()
    receiver.stop()
    began = time.perf_counter()
    body, _ = metrics.exposition()
    print(f"one scrape of /metrics:                         {(time.perf_counter() - began) * 1e3:6.2f} ms, "
          f"{len(body):,} bytes")


if __name__ == "__main__":
    main()
