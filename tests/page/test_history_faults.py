"""The history database going away while the app runs (a real PostgreSQL stopped and started again): chats
keep working, the page says history is not being saved, the session log has everything, and the rows kept
meanwhile are written when the database is back."""

from __future__ import annotations

import asyncio
import json

from nicegui import app

from tests.page_helpers import send, wait_until_idle

ADA = {"X-EMAIL-USER": "ada@example.com"}


async def wait_for(condition, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the condition never held")


async def test_postgresql_stopped_and_started_again_loses_nothing(simulated_app, postgres, clean_env) -> None:
    if not postgres.running:
        postgres.start()
    postgres.reset()
    async with simulated_app(DATABASE_URL=postgres.url) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        await send(user, "/calc 6*7")
        await wait_until_idle(user)
        history = app.state.services.history
        assert await history.writer.flush()
        postgres.stop()
        try:
            await send(user, "/calc 7*8")
            await wait_until_idle(user)
            await user.should_see("7*8 = 56")  # the chat works on
            await wait_for(lambda: user.notify.contains("History is not being saved right now"))
        finally:
            postgres.start()
        await wait_for(lambda: user.notify.contains("History is being saved again"), timeout=30)
        assert await history.writer.flush()
        (session,) = app.state.services.sessions.sessions()
        view = await history.load("ada@example.com", session.id)
        assert [m.text for m in view.messages if m.role == "user"] == ["/calc 6*7", "/calc 7*8"]
        assert view.messages[-1].status.value == "done"
    logged = [json.loads(line) for line in (clean_env / "logs" / f"{session.id}.jsonl").read_text().splitlines()]
    assert [line["text"] for line in logged if line["type"] == "command"] == ["/calc 6*7", "/calc 7*8"]
