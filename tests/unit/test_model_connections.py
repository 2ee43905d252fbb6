"""Replies streaming at once each hold a connection to their model: two hundred and fifty do not queue."""

from __future__ import annotations

import asyncio

import httpx

from galaxy_chat.llm.provider import create_http_client

AT_ONCE = 250  # more than one replica streams at once (docs/capacity.md)


async def test_many_replies_stream_from_their_model_at_the_same_time() -> None:
    connected = 0
    everyone = asyncio.Event()

    async def model(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connected
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        connected += 1
        if connected == AT_ONCE:
            everyone.set()
        await asyncio.wait_for(everyone.wait(), 10)  # a stream's last token comes only once all have begun
        writer.write(b"5\r\ndone\n\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(model, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def reply(client: httpx.AsyncClient) -> str:
        async with client.stream("POST", f"http://127.0.0.1:{port}/v1/chat/completions", json={}) as response:
            return (await response.aread()).decode()

    async with server, create_http_client() as client:
        replies = await asyncio.wait_for(asyncio.gather(*(reply(client) for _ in range(AT_ONCE))), 20)
    assert replies == ["done\n"] * AT_ONCE
