"""Per-call overhead of an MCP stdio call over the tool's own time (prints figures; not a test).

    uv run python bench/mcp_bench.py [--calls 400] [--concurrency 50] [--rounds 10]

Two clients on the same servers: `sdk-client` is the SDK's own `Client` over its `stdio_client`; `app` is
`McpConnections.call` (our stdio transport, tool-list guard, call routing, result mapping). Two servers:
`sdk-server` is the SDK test server (`MCPServer` over stdio, the realistic case); `raw-server` is a dozen lines
of blocking JSON-RPC without the SDK, so what is left is the client and the pipe. `echo` does no work (its own
time is about a microsecond), so its latency is the overhead; `slow` sleeps 20 ms, and latency minus 20 ms is
the overhead on a call that waits (sdk-server only: the raw server answers one call at a time). One call at a
time, then `--concurrency` calls at once (latency per call, and wall time divided by the calls).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client, StdioServerParameters

from galaxy_chat.mcp import McpConnections, McpServerConfig

ARGS = ["-W", "ignore", "-m", "galaxy_chat.testing.mcp_test_server", "--transport", "stdio"]
SLOW_S = 0.02
# A minimal handshake-era JSON-RPC responder (no SDK, blocking reads): what is left is the client and the pipe.
RAW_SERVER = r"""
import json, sys, time
tool = {"name": "echo", "inputSchema": {"type": "object"}}
slow = {"name": "slow", "inputSchema": {"type": "object"}}
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    method, params = message["method"], message.get("params") or {}
    if method == "initialize":
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "raw", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [tool, slow]}
    elif method == "tools/call":
        if params["name"] == "slow":
            time.sleep(params["arguments"]["seconds"])
        result = {"content": [{"type": "text", "text": "x"}], "isError": False}
    else:
        result = {}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
    sys.stdout.flush()
"""
SERVERS = {"sdk-server": (ARGS, "auto"), "raw-server": (["-c", RAW_SERVER], "legacy")}

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed(call: Call, tool: str, arguments: dict[str, Any]) -> float:
    started = time.perf_counter()
    await call(tool, arguments)
    return time.perf_counter() - started


async def measure(name: str, call: Call, calls: int, concurrency: int, rounds: int) -> None:
    for _ in range(20):  # warm up: first calls import and compile on both sides
        await call("echo", {"text": "warm"})
    cases = [("echo", {"text": "x"}, 0.0), ("slow", {"seconds": SLOW_S}, SLOW_S)]
    for tool, arguments, own in cases[:1] if name.startswith("raw") else cases:
        count = calls if own == 0 else max(50, calls // 8)
        one = [await timed(call, tool, arguments) - own for _ in range(count)]
        many: list[float] = []
        wall = 0.0
        for _ in range(rounds):
            started = time.perf_counter()
            many += await asyncio.gather(*(timed(call, tool, arguments) for _ in range(concurrency)))
            wall += time.perf_counter() - started
        many = [value - own for value in many]
        print(f"{name:21} {tool:4} one at a time: p50 {percentile(one, .5) * 1e3:6.2f} ms  "
              f"p95 {percentile(one, .95) * 1e3:6.2f} ms  (n={count})")
        print(f"{name:21} {tool:4} {concurrency} at once:   p50 {percentile(many, .5) * 1e3:6.2f} ms  "
              f"p95 {percentile(many, .95) * 1e3:6.2f} ms  {rounds * concurrency / wall:6,.0f} calls/s  "
              f"= {wall / (rounds * concurrency) * 1e3:.2f} ms/call")


async def bench_sdk(server: str, calls: int, concurrency: int, rounds: int) -> None:
    args, mode = SERVERS[server]
    params = StdioServerParameters(command=sys.executable, args=args)
    async with Client(params, cache=None, mode=mode) as client:
        await client.list_tools()

        async def call(tool: str, arguments: dict[str, Any]) -> Any:
            return await client.call_tool(tool, arguments)

        await measure(f"{server} sdk-client", call, calls, concurrency, rounds)


async def bench_app(server: str, calls: int, concurrency: int, rounds: int) -> None:
    args, mode = SERVERS[server]
    config = McpServerConfig(id="b", command=sys.executable, args=args, protocol=mode)  # type: ignore[arg-type]
    connections = McpConnections([config])
    connections.start()
    try:
        await connections.wait_settled(30)
        assert connections.state("b").status == "connected", connections.state("b").reason

        async def call(tool: str, arguments: dict[str, Any]) -> Any:
            outcome = await connections.call("b", tool, arguments)
            assert not outcome.is_error, outcome.text
            return outcome

        await measure(f"{server} app", call, calls, concurrency, rounds)
    finally:
        await connections.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; per-call latency minus the tool's own time")
    for server in SERVERS:
        asyncio.run(bench_sdk(server, args.calls, args.concurrency, args.rounds))
        asyncio.run(bench_app(server, args.calls, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
