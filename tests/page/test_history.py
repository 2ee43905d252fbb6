"""Conversations that last, on the page and over HTTP: saved as they happen, found again after a restart,
searched, renamed, pinned, deleted and restored, answered again in versions; nobody else's ever shown."""

from __future__ import annotations

import asyncio

from nicegui import app, ui

from galaxy_chat.testing.llm_server import Reply, is_chat_request, is_title_request
from galaxy_chat.testing.llm_wire import openai_text
from galaxy_chat.ui.conversation_view import RECENT_TURNS
from tests.page_helpers import assistant_html, is_shown, model_file, send, wait_until_idle

ADA = {"X-EMAIL-USER": "ada@example.com"}
BOB = {"X-EMAIL-USER": "bob@example.com"}


async def saved(user, headers=ADA) -> list[dict]:
    """The person's chats once the writer has written everything queued so far."""
    await app.state.services.history.writer.flush()
    return (await user.http_client.get("/api/conversations", headers=headers)).json()["items"]


async def test_a_chat_is_saved_and_continues_after_a_restart(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, openai_text("Zanzibar is an island.")),
                      Reply(200, openai_text("Its capital is Zanzibar City.")))
    env = model_file(tmp_path, llm_server)
    async with simulated_app(**env) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        await send(user, "Tell me about Zanzibar")
        await wait_until_idle(user)
        (chat,) = await saved(user)
        assert chat["title"] == "Tell me about Zanzibar"
    async with simulated_app(**env) as user:  # a new process on the same database
        user.http_client.headers.update(ADA)
        await user.open(f"/c/{chat['id']}")
        await user.should_see("Tell me about Zanzibar", marker="message-user")
        assert "Zanzibar is an island." in assistant_html(user)
        await send(user, "And its capital?")
        await wait_until_idle(user)
        asked = [r.json()["messages"] for r in llm_server.requests if is_chat_request(r)][-1]
        assert [m["content"] for m in asked[1:]] == ["Tell me about Zanzibar", "Zanzibar is an island.",
                                                     "And its capital?"]  # the whole context, in order
        await saved(user)
        shown = (await user.http_client.get(f"/api/conversations/{chat['id']}")).json()
        assert [m["role"] for m in shown["messages"]] == ["user", "assistant", "user", "assistant"]
        assert shown["messages"][-1]["status"] == "done" and "Zanzibar City" in shown["messages"][-1]["text"]


async def test_another_persons_chat_is_not_found_anywhere(simulated_app) -> None:
    async with simulated_app() as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        await send(user, "/calc 6*7")
        await wait_until_idle(user)
        (chat,) = await saved(user)
        url = f"/api/conversations/{chat['id']}"
        page = await user.http_client.get(f"/c/{chat['id']}", headers=BOB)
        assert page.status_code == 404 and "6*7" not in page.text and "Chat not found" in page.text
        assert (await user.http_client.get(url, headers=BOB)).status_code == 404
        assert (await user.http_client.patch(url, json={"title": "mine"}, headers=BOB)).status_code == 404
        assert (await user.http_client.delete(url, headers=BOB)).status_code == 404
        assert (await user.http_client.get(f"{url}/export.md", headers=BOB)).status_code == 404
        assert (await user.http_client.get("/api/conversations", headers=BOB)).json()["items"] == []
        assert (await user.http_client.get(url)).json()["title"] == "/calc 6*7"  # still Ada's, unchanged


async def test_search_rename_pin_delete_and_undo(simulated_app) -> None:
    async with simulated_app() as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        for expression in ("11*13", "17*19"):
            await send(user, f"/calc {expression}")
            await wait_until_idle(user)
            user.find(marker="new-chat-button").click()
            await asyncio.sleep(0.1)
        first, second = sorted(await saved(user), key=lambda chat: chat["title"])
        hits = (await user.http_client.get("/api/conversations", params={"query": "19"})).json()["hits"]
        assert [hit["id"] for hit in hits] == [second["id"]]
        assert any(piece["match"] and piece["text"] == "19" for piece in hits[0]["snippet"])
        (panel,) = user.find(marker="history-panel").elements
        assert [item["id"] for item in panel.props["items"]] == [second["id"], first["id"]]  # newest first
        panel_event(user, "rename", {"id": first["id"], "title": "Prime products"})
        panel_event(user, "pin", {"id": first["id"], "pinned": True})
        await asyncio.sleep(0.3)
        top = panel.props["items"][0]
        assert (top["title"], top["pinned"]) == ("Prime products", True)
        panel_event(user, "remove", second["id"])
        await asyncio.sleep(0.3)
        assert second["id"] not in [item["id"] for item in panel.props["items"]]
        assert (await user.http_client.get("/api/conversations", params={"query": "19"})).json()["hits"] == []
        (toast,) = user.find(marker="undo-toast").elements
        toast_event(user, toast, "undo")
        await asyncio.sleep(0.3)
        assert second["id"] in [item["id"] for item in panel.props["items"]]
        assert [h["id"] for h in (await user.http_client.get("/api/conversations", params={"query": "19"}))
                .json()["hits"]] == [second["id"]]


def panel_event(user, name: str, args) -> None:
    user.find(marker="history-panel").trigger(name, args)


def toast_event(user, toast: ui.notification, name: str) -> None:
    with user.client:
        for listener in toast._event_listeners.values():
            if listener.type == name:
                toast._handle_event({"listener_id": listener.id, "args": None})


async def test_regenerate_and_edit_keep_the_earlier_versions(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, openai_text("First answer.")), Reply(200, openai_text("Second answer.")),
                      Reply(200, openai_text("Answer to the edit.")))
    async with simulated_app(**model_file(tmp_path, llm_server)) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        await send(user, "Question one")
        await wait_until_idle(user)
        user.find(marker="regenerate-button").click()
        await asyncio.sleep(0.1)
        await wait_until_idle(user)
        assert "Second answer." in assistant_html(user) and "First answer." not in assistant_html(user)
        await user.should_see("2/2", marker="version-number")
        user.find(marker="version-earlier").click()
        await asyncio.sleep(0.1)
        assert "First answer." in assistant_html(user)
        await user.should_see("1/2", marker="version-number")
        user.find(marker="version-later").click()
        await asyncio.sleep(0.1)
        user.find(marker="edit-button").click()
        user.find(marker="edit-input").clear().type("Question one, edited")
        user.find(marker="edit-send").click()
        await asyncio.sleep(0.1)
        await wait_until_idle(user)
        await user.should_see("Question one, edited", marker="message-user")
        await user.should_see("3/3", marker="version-number")
        asked = [r.json()["messages"] for r in llm_server.requests if is_chat_request(r)][-1]
        assert [m["content"] for m in asked[1:]] == ["Question one, edited"]  # the replaced turns are not heard
        (chat,) = await saved(user)
        shown = (await user.http_client.get(f"/api/conversations/{chat['id']}")).json()["messages"]
        assert [m["text"] for m in shown] == ["Question one, edited", "Answer to the edit."]
        assert len(shown[0]["versions"]) == 2 and is_shown(user, "versions")


async def test_the_model_gives_the_chat_a_better_title_and_all_chats_can_go(simulated_app, llm_server,
                                                                           tmp_path) -> None:
    llm_server.script(Reply(200, openai_text("Pack light clothes.")))
    env = model_file(tmp_path, llm_server)
    llm_server.rules.insert(0, (is_title_request, Reply(200, openai_text('"Packing for Zanzibar."'))))
    async with simulated_app(**env) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        await send(user, "what should i pack for a week on zanzibar in june")
        await wait_until_idle(user)
        (panel,) = user.find(marker="history-panel").elements
        for _ in range(100):
            if panel.props["items"] and panel.props["items"][0]["title"] == "Packing for Zanzibar":
                break
            await asyncio.sleep(0.05)
        assert panel.props["items"][0]["title"] == "Packing for Zanzibar"  # quotes and full stop removed
        assert (await saved(user))[0]["title"] == "Packing for Zanzibar"
        user.find(marker="delete-all-chats").click()
        user.find(marker="delete-all-confirm").click()
        await asyncio.sleep(0.3)
        assert await saved(user) == [] and panel.props["items"] == []


async def test_a_long_chat_opens_with_its_last_turns_and_shows_earlier_ones_on_request(simulated_app) -> None:
    total = 2 * RECENT_TURNS + 3  # two pages of earlier turns, the second short
    async with simulated_app(MESSAGES_PER_MINUTE="100") as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        for n in range(total):
            await send(user, f"/calc {n}+1000")
            await wait_until_idle(user)
        (chat,) = await saved(user)
        await user.open(f"/c/{chat['id']}")
        assert len(user.find(marker="message-user").elements) == RECENT_TURNS
        await user.should_see(f"/calc {total - 1}+1000")
        await user.should_not_see(f"/calc {total - RECENT_TURNS - 1}+1000")
        user.find(marker="show-earlier").click()
        await asyncio.sleep(0.1)
        assert len(user.find(marker="message-user").elements) == 2 * RECENT_TURNS
        user.find(marker="show-earlier").click()
        await asyncio.sleep(0.1)
        (conversation,) = user.find(marker="conversation").elements
        texts = [element.text for element in conversation.descendants()  # in the page's order
                 if isinstance(element, ui.label) and element.text.startswith("/calc")]
        assert texts == [f"/calc {n}+1000" for n in range(total)]  # all of them, in order
        await user.should_not_see(marker="show-earlier")
