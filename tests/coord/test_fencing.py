"""Fencing: a reply whose run lease passed to a newer holder (its replica stalled past the lease) writes no
more, neither to the page nor to the history; the person is told why. Real Redis, the real engine on the
scripted model, the real history (SQLite)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from access.policy import AllowAll
from galaxy_chat.coord import RedisCoordinator
from galaxy_chat.core.limits import LeaseLost
from galaxy_chat.services import Services
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.llm_server import Reply, ScriptedServer
from galaxy_chat.testing.llm_wire import DONE, openai_chunk
from galaxy_chat.testing.redis_server import RedisServer
from galaxy_chat.vocabulary.events import Done, Error, TextDelta
from galaxy_chat.vocabulary.users import User


async def test_a_reply_that_lost_its_lease_stops_writing(tmp_path: Path, llm_server: ScriptedServer,
                                                          redis_server: RedisServer) -> None:
    models = tmp_path / "llms.yml"
    models.write_text(f"models:\n  - name: Scripted\n    provider: openai\n    base_url: {llm_server.base_url}/v1\n"
                      "    api_key: sk-test\n    model_name: scripted-1\n")
    settings = load_settings(env_file=None, log_dir=tmp_path / "logs", data_dir=tmp_path / "data",
                             llm_config_file=models, redis_url=redis_server.url, health_check_interval_s=3600)
    services = Services.build(settings, policy=AllowAll())
    await services.coordinator.start()
    services.slots.lease_s = 0.6  # renewed every 0.2 s: the loss is noticed quickly
    await services.start_history()
    chunks: list[bytes | float] = []
    for n in range(100):
        chunks += [openai_chunk({"content": f"w{n:03d} "}), 0.05]
    llm_server.script(Reply(200, [*chunks, openai_chunk({}, finish="stop"), DONE]))
    session = services.sessions.active_for(User("ann@example.com"))
    turn = session.send("Count")
    while sum(isinstance(e, TextDelta) for e in turn.events) < 10:
        await asyncio.sleep(0.05)

    other = RedisCoordinator(redis_server.url)  # another replica, after this one stalled past the lease
    await other.client.delete("galaxy:lease:run:ann@example.com")
    assert await other.acquire("run:ann@example.com", "replica-b", ttl_s=30) is not None
    await asyncio.wait_for(session.wait(), 10)

    error, done = turn.events[-2:]
    assert isinstance(error, Error) and error.message == LeaseLost.MESSAGE and isinstance(done, Done)
    shown = "".join(e.text for e in turn.events if isinstance(e, TextDelta)).split()
    assert 10 <= len(shown) < 100
    assert services.history is not None and await services.history.writer.flush()
    stored = await services.history.load("ann@example.com", session.id)
    assert stored is not None
    reply = stored.messages[-1]
    assert not any(part.get("type") in {"done", "error"} for part in reply.parts)  # nothing after the loss
    assert len("".join(p.get("text", "") for p in reply.parts).split()) <= len(shown)
    await other.aclose()
    await services.aclose()

