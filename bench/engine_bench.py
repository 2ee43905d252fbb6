"""Tokens per second and CPU per token through the chat engine, against a local scripted server.

    uv run python bench/engine_bench.py [--tokens 5000] [--streams 20]

The server, the OpenAI provider (httpx + SSE parsing), the engine and the session log all run in this one
process, so the CPU figure is an upper bound for the engine. "provider only" drains the same streams
without the engine, to show what the engine itself adds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

from galaxy_chat.core.engine import ChatEngine
from galaxy_chat.core.session_log import SessionLogs
from galaxy_chat.core.tool_runner import NoTools
from galaxy_chat.llm.factory import create_provider
from galaxy_chat.llm.messages import ChatRequest, Message, TextPiece
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.provider import Provider, create_http_client
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.llm_server import Reply, ScriptedServer
from galaxy_chat.testing.llm_wire import openai_text
from galaxy_chat.vocabulary.events import Done, TextDelta


def reply(tokens: int) -> Reply:
    # One write for the whole body: the server should cost next to nothing at zero delay.
    return Reply(200, [b"".join(c for c in openai_text(*(["tok "] * tokens)) if isinstance(c, bytes))])


async def through_engine(engine: ChatEngine, tokens: int) -> int:
    seen = 0
    conversation = engine.new_conversation("bench@example.com")
    async for event in engine.respond(conversation, "Go", "bench"):
        if isinstance(event, TextDelta):
            seen += 1
        elif isinstance(event, Done) and seen != tokens:
            raise SystemExit(f"expected {tokens} tokens, got {seen}")
    engine.end_conversation(conversation)
    return seen


async def provider_only(provider: Provider, tokens: int) -> int:
    request = ChatRequest([Message("system", "Be brief."), Message("user", "Go")])
    return sum([1 async for delta in provider.stream(request) if isinstance(delta, TextPiece)])


async def measure(label: str, streams: int, tokens: int, one: Callable[[], Awaitable[int]]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(one() for _ in range(streams)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    total = sum(counts)
    assert total == streams * tokens, (total, streams * tokens)
    print(f"{label:<16} {streams:>3} stream(s) x {tokens} tokens: {total / wall:>10,.0f} tokens/s"
          f"   {cpu / total * 1e6:6.1f} µs CPU/token   ({wall:.2f} s)")


async def main(tokens: int, streams: int) -> None:
    server = ScriptedServer()
    await server.start()
    server.route("POST", "/v1/chat/completions", reply(tokens))
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(env_file=None, log_dir=Path(folder), system_prompt_override="Be brief.")
        model = ModelConfig(name="bench", provider="openai", base_url=server.base_url + "/v1", model_name="m",
                            context_window=32_768)
        logs = SessionLogs.from_settings(settings, [model])
        async with create_http_client() as client:
            provider = create_provider(model, client)
            engine = ChatEngine(settings, lambda _name: provider, NoTools(), logs.open)
            await measure("warm-up", 1, tokens, lambda: through_engine(engine, tokens))
            for count in (1, streams):
                await measure("provider only", count, tokens, lambda: provider_only(provider, tokens))
                await measure("engine", count, tokens, lambda: through_engine(engine, tokens))
        logs.close()
    await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--streams", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.tokens, arguments.streams))
