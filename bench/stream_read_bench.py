"""What reading a model's stream costs per token, one read per token as a hosted model sends them; prints figures.

    uv run python bench/stream_read_bench.py [--streams 30] [--tokens 300]

A bare asyncio server in a child process (pinned to the second core) writes each token of an OpenAI-style
event stream as its own chunked write, 20 ms apart, to `--streams` requests at once. This process (pinned to
the first core, under uvloop as the app runs) reads them three ways and prints its CPU per token: bare asyncio
streams (the floor: one wake-up and one recv per token), httpx's raw body (httpcore, h11, anyio: what the
provider's client does per read), and httpx with httpx_sse's event parsing (what the provider uses).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvloop
from httpx_sse import EventSource

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from galaxy_chat.llm.provider import create_http_client
from galaxy_chat.testing.postgres import free_port

GAP_S = 0.02
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


async def serve(port: int, tokens: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def chunk(data: str) -> bytes:
            raw = data.encode()
            return b"%x\r\n%s\r\n" % (len(raw), raw)

        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                writer.write(HEAD)
                for index in range(tokens):
                    delta = {"choices": [{"index": 0, "delta": {"content": f"t{index:04d} "}, "finish_reason": None}]}
                    writer.write(chunk(f"data: {json.dumps(delta)}\n\n"))
                    await writer.drain()
                    await asyncio.sleep(GAP_S)
                writer.write(chunk("data: [DONE]\n\n") + b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


async def read(way: str, client: httpx.AsyncClient, url: str, port: int) -> int:
    """One stream read to its end; the number of events seen."""
    events = 0
    if way == "asyncio streams":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-length: 2\r\n\r\n{}")
        while data := await reader.read(65536):
            events += data.count(b"data:")
            if data.endswith(b"0\r\n\r\n"):
                break
        writer.close()
    elif way == "httpx body":
        async with client.stream("POST", url, json={}) as response:
            async for data in response.aiter_raw():
                events += data.count(b"data:")
    else:
        async with client.stream("POST", url, json={}) as response:
            async for _ in EventSource(response).aiter_sse():
                events += 1
    return events


async def measure(port: int, streams: int) -> None:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    async with create_http_client() as client:
        for way in ("asyncio streams", "httpx body", "httpx + httpx_sse"):
            await asyncio.gather(*(read(way, client, url, port) for _ in range(streams)))  # warm: connections
            cpu, began = time.process_time(), time.monotonic()
            events = sum(await asyncio.gather(*(read(way, client, url, port) for _ in range(streams))))
            used, elapsed = time.process_time() - cpu, time.monotonic() - began
            print(f"  {way:18s}  {used / events * 1e6:6.1f} us per token  ({used / elapsed:.0%} of a core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=30)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)  # the child: serve on this port
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.tokens))
        return
    available = sorted(os.sched_getaffinity(0))
    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--tokens", str(args.tokens)])
    if len(available) > 1:
        os.sched_setaffinity(child.pid, {available[1]})
        os.sched_setaffinity(0, {available[0]})
    try:
        time.sleep(1.5)
        print(f"{args.streams} streams x {args.tokens} tokens, a token every {GAP_S * 1000:.0f} ms, one write each:")
        uvloop.run(measure(port, args.streams))
    finally:
        child.terminate()
        child.wait(10)


if __name__ == "__main__":
    main()
