"""One live session per user: reloads and other tabs attach to it; limits and isolation hold on the server."""

from __future__ import annotations

import asyncio
import json
import shutil

import httpx
from nicegui import Client, app, core
from nicegui.testing.user import User

from galaxy_chat.testing.app_process import ROOT
from galaxy_chat.testing.llm_server import Reply, is_chat_request
from galaxy_chat.testing.llm_wire import openai_chunk, openai_text
from tests.page_helpers import assistant_html, model_file, send, wait_until_idle

ALICE = {"X-EMAIL-USER": "alice@example.com"}
BOB = {"X-EMAIL-USER": "bob@example.com"}


def another_user(headers: dict[str, str]) -> User:
    """A second browser on the same running app (NiceGUI's create_user does the same)."""
    return User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test", headers=headers))


def slow_reply(count: int, pause: float = 0.05) -> Reply:
    return Reply(200, [*[item for n in range(count) for item in (openai_chunk({"content": f"w{n} "}), pause)],
                       openai_chunk({}, finish="stop"), b"data: [DONE]\n\n"])


def log_lines(tmp_path, session_id: str) -> list[dict]:
    app.state.services.logs.flush()
    return [json.loads(line) for line in (tmp_path / "logs" / f"{session_id}.jsonl").read_text().splitlines()]


async def test_a_reload_mid_reply_shows_everything_and_generates_once(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(slow_reply(40))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Write forty words")
        await asyncio.sleep(0.6)  # part of the reply has streamed
        assert "w3 " in assistant_html(user)
        await user.open("/")  # the reload: a new page attaches to the running reply
        await user.should_see("Write forty words", marker="message-user")
        await wait_until_idle(user, timeout=10)
        text = assistant_html(user)
        assert all(f"w{n} " in text for n in range(40))
        session = app.state.services.sessions.sessions()[0]
        replies = [line for line in log_lines(tmp_path, session.id) if line["type"] == "model_reply"]
        assert len(replies) == 1
        assert len([r for r in llm_server.requests if is_chat_request(r)]) == 1  # generated once


async def test_a_second_tab_takes_over_and_the_first_is_told(simulated_app, llm_server, tmp_path) -> None:
    async with simulated_app(**model_file(tmp_path, llm_server)) as first:
        first.http_client.headers.update(ALICE)
        await first.open("/")
        await send(first, "/calc 1+1")
        await wait_until_idle(first)
        second = another_user(ALICE)
        await second.open("/")
        await second.should_see("/calc 1+1", marker="message-user")  # the same session, shown again
        # The simulation collects every toast in the newest user's list; the toast belongs to the first page.
        assert any("now open in another tab" in message for message in second.notify.messages)
        (box,) = first.find(marker="chat-input").elements
        assert not box.enabled


async def test_closing_the_tab_does_not_cancel_the_reply(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(slow_reply(20))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Keep going")
        await asyncio.sleep(0.2)
        for client in list(Client.instances.values()):  # the tab goes away for good
            client.delete()
        session = app.state.services.sessions.sessions()[0]
        await asyncio.wait_for(session.wait(), 10)
        done = [line for line in log_lines(tmp_path, session.id) if line["type"] == "done"]
        assert len(done) == 1 and done[0]["stopped"] is False
        assert "w19" in session.turns[0].events[-2].text or any(
            "w19" in getattr(e, "text", "") for e in session.turns[0].events)


async def test_one_reply_at_a_time(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(slow_reply(20))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Long one")
        await asyncio.sleep(0.1)
        user.find(marker="chat-input").type("Impatient").trigger("keydown.enter.exact.prevent")  # Enter
        await asyncio.sleep(0.1)
        assert any("still being written" in message for message in user.notify.messages)
        await wait_until_idle(user)
        assert [t.text for t in app.state.services.sessions.sessions()[0].turns] == ["Long one"]


async def test_messages_per_minute(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true", MESSAGES_PER_MINUTE="2") as user:
        await user.open("/")
        for expression in ("1+1", "2+2", "3+3"):
            await send(user, f"/calc {expression}")
            await wait_until_idle(user)
        assert any("2 messages in the last minute" in m and "send again in" in m for m in user.notify.messages)
        assert len(user.find(marker="message-user").elements) == 2


async def test_oversized_input_never_reaches_the_model(simulated_app, llm_server, tmp_path) -> None:
    async with simulated_app(TEST_MODE="true", MAX_MESSAGE_CHARS="100", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "x" * 101)
        assert any("too long: 101 characters, the limit is 100" in m for m in user.notify.messages)
        await asyncio.sleep(0.2)
        assert [r for r in llm_server.requests if is_chat_request(r)] == []
        (box,) = user.find(marker="chat-input").elements
        assert box.value == "x" * 101  # nothing is lost: the person can shorten it


async def test_switching_model_mid_session_continues_and_is_logged(simulated_app, llm_server, tmp_path) -> None:
    second = (f"- name: Other\n  provider: openai\n  base_url: {llm_server.base_url}/v1\n  api_key: sk-2\n"
              "  model_name: other-1\n")
    llm_server.script(Reply(200, openai_text("First.")), Reply(200, openai_text("Second.")))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server, second)) as user:
        await user.open("/")
        await send(user, "One")
        await wait_until_idle(user)
        (select,) = user.find(marker="model-select").elements
        select.set_value("Other")
        await send(user, "Two")
        await wait_until_idle(user)
        chat = [r.json() for r in llm_server.requests if is_chat_request(r)]
        assert [body["model"] for body in chat] == ["scripted-1", "other-1"]
        assert [m["content"] for m in chat[1]["messages"] if m["role"] == "user"] == ["One", "Two"]
        session = app.state.services.sessions.sessions()[0]
        switch = [line for line in log_lines(tmp_path, session.id) if line["type"] == "model_switch"]
        assert switch == [dict(switch[0], previous="Scripted", model="Other")]


async def test_no_one_can_export_another_users_session(simulated_app) -> None:
    async with simulated_app() as alice:
        alice.http_client.headers.update(ALICE)
        await alice.open("/")
        await send(alice, "/calc 123456789*2")
        await wait_until_idle(alice)
        (mine,) = (await alice.http_client.get("/sessions")).json()["sessions"]
        own = await alice.http_client.get(f"/sessions/{mine['id']}/export.txt")
        assert own.status_code == 200 and "246913578" in own.text
        for ext in ("txt", "md", "json"):
            theirs = await alice.http_client.get(f"/sessions/{mine['id']}/export.{ext}", headers=BOB)
            assert theirs.status_code == 404
            assert "246913578" not in theirs.text and "alice" not in theirs.text
        guessed = await alice.http_client.get("/sessions/not-a-real-id/export.json")
        assert guessed.status_code == 404


async def test_new_chat_ends_the_session_and_starts_another(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/calc 1+1")
        await wait_until_idle(user)
        first = app.state.services.sessions.sessions()[0].id
        user.find(marker="new-chat-button").click()
        await user.should_not_see(marker="message-user")
        (current,) = app.state.services.sessions.sessions()
        assert current.id != first
        assert (await user.http_client.get(f"/sessions/{first}/export.txt")).status_code == 404


async def test_stop_while_the_reply_is_still_being_prepared_ends_it(simulated_app, llm_server, tmp_path,
                                                                     monkeypatch) -> None:
    """Stop before the model is called (passages still being retrieved): the turn ends stopped, no model call."""
    slow = asyncio.Event()

    async def slow_retrieval(*_: object) -> list:
        await slow.wait()  # a data source that takes its time
        return []

    shutil.copytree(ROOT / "data" / "sources", tmp_path / "data" / "sources")
    env = model_file(tmp_path, llm_server) | {"DATA_SOURCES_FILE": str(ROOT / "config" / "data_sources.yml")}
    async with simulated_app(TEST_MODE="true", **env) as user:
        monkeypatch.setattr(app.state.services.retriever, "retrieve", slow_retrieval)
        await user.open("/")
        user.find(marker="data-select").elements.pop().set_value(["handbook"])
        await send(user, "What does the handbook say?")
        user.find(marker="stop-button").click()
        await wait_until_idle(user)
        await user.should_see(marker="send-button")
        assert not [r for r in llm_server.requests if is_chat_request(r)]
        (session,) = app.state.services.sessions.sessions()
        assert session.turns[-1].events[-1].stopped
