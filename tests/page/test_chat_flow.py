"""Conversations on the page against the scripted LLM server: streaming, tools, stop, errors, export."""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser

from nicegui import app, ui

from galaxy_chat.testing.llm_server import Reply, is_chat_request, is_health_check
from galaxy_chat.testing.llm_wire import openai_chunk, openai_text, openai_tool_calls
from galaxy_chat.ui import page_header
from tests.page_helpers import assistant_html, is_shown, model_file, send, wait_until_idle


async def test_a_streamed_reply_renders_as_markdown(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, openai_text("Here is **bold**", " and a list:\n\n", "- one\n- two\n")))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await user.should_see(marker="welcome")
        await user.should_not_see("No language model is configured")
        await send(user, "Hello")
        await wait_until_idle(user)
        html = assistant_html(user)
        assert "<strong>bold</strong>" in html and "<li>one</li>" in html
        chat = [r for r in llm_server.requests if is_chat_request(r)]
        assert chat[0].json()["messages"][-1] == {"role": "user", "content": "Hello"}


async def test_hostile_markdown_is_sanitised_before_it_reaches_the_page(simulated_app, llm_server, tmp_path) -> None:
    hostile = '<script>window.__xss=1</script> <img src=x onerror="window.__xss=1"> [x](javascript:alert(1))'
    llm_server.script(Reply(200, openai_text(hostile)))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Be evil")
        await wait_until_idle(user)
        html = assistant_html(user)
        assert dangerous_markup(html) == []
        assert "&lt;script&gt;" in html  # shown as text, harmless


async def test_a_tool_round_trip_shows_a_card_and_the_final_answer(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(
        Reply(200, openai_tool_calls(("call_1", "calculator", ['{"expression": ', '"6*7"}']))),
        Reply(200, openai_text("The answer is 42.")),
    )
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "What is 6 times 7?")
        await wait_until_idle(user)
        await user.should_see("calculator", marker="tool-card")
        assert "The answer is 42." in assistant_html(user)
        second = [r for r in llm_server.requests if is_chat_request(r)][1].json()["messages"]
        assert second[-1]["role"] == "tool" and "42" in second[-1]["content"]


async def test_stop_keeps_the_partial_reply(simulated_app, llm_server, tmp_path) -> None:
    tick = openai_chunk({"content": "tick "})
    llm_server.script(Reply(200, [tick, *[0.1, tick] * 100]))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Count slowly")
        await user.should_see(marker="stop-button")
        for _ in range(40):
            if "tick" in assistant_html(user):
                break
            await asyncio.sleep(0.05)
        user.find(marker="stop-button").click()
        await wait_until_idle(user, timeout=3)
        await user.should_see("stopped", marker="stopped-badge")
        assert "tick" in assistant_html(user)


async def test_status_line_while_waiting(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, [1.0, *openai_text("Finally.")]))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Take your time")
        await user.should_see("Still working", marker="status-line", retries=50)
        await wait_until_idle(user)
        assert not is_shown(user, "status-line")


async def test_model_error_shows_inline_with_retry_and_a_toast(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply.json({"error": {"message": "bad key"}}, status=401), Reply(200, openai_text("Now ok.")))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Hi")
        await wait_until_idle(user)
        await user.should_see("rejected the API key", marker="reply-error")
        assert any("rejected the API key" in message for message in user.notify.messages)
        assert "sk-page-test" not in str(user.notify.messages)
        user.find(marker="retry-button").click()
        await wait_until_idle(user)
        assert "Now ok." in assistant_html(user)


async def test_tools_lock_after_the_first_message_and_new_chat_unlocks(simulated_app, tmp_path) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        (tools,) = user.find(marker="tools-select").elements
        assert tools.enabled and set(tools.value) >= {"calculator", "sql_query"}
        # Each tool with its description, one line each, under the field.
        assert "calculator: Evaluate an arithmetic expression" in tools.props["hint"]
        assert "\nsql_query: Run one read-only SQLite SELECT" in tools.props["hint"]
        await user.should_not_see("Locked for this chat")
        tools.set_value(["calculator"])
        await send(user, "/calc 1+1")
        await wait_until_idle(user)
        assert not tools.enabled
        await user.should_see("Locked for this chat")
        await send(user, "/sql SELECT 1")
        await wait_until_idle(user)
        await user.should_see("`/sql` is not chosen for this chat")
        user.find(marker="new-chat-button").click()
        await user.should_not_see(marker="message-user")
        assert tools.enabled and "sql_query" in tools.value
        await user.should_not_see("Locked for this chat")


async def test_export_downloads_the_conversation(simulated_app, tmp_path) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/calc 2+3")
        await wait_until_idle(user)
        user.find(marker="export-button").click()
        user.find(marker="export-json").click()
        response = await user.download.next()
        exported = json.loads(response.content)
        assert exported["format"] == "galaxy-chat-export"
        assert exported["turns"][0]["text"] == "/calc 2+3"


async def test_thumbs_feedback_is_recorded(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, openai_text("Rate me.")))
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await send(user, "Hi")
        await wait_until_idle(user)
        user.find(marker="thumb-up").click()
        user.find(marker="feedback-text").type("nice")
        user.find(marker="feedback-send").click()
        for _ in range(40):
            if (tmp_path / "logs" / "feedback.jsonl").exists():
                break
            await asyncio.sleep(0.05)
        assert "Thank you for your feedback!" in user.notify.messages
        line = json.loads((tmp_path / "logs" / "feedback.jsonl").read_text().splitlines()[0])
        assert (line["rating"], line["text"], line["model"]) == ("up", "nice", "Scripted")


def dangerous_markup(html: str) -> list[str]:
    """Tags, event handlers, styles and URLs in `html` that could run code or restyle the page."""
    found: list[str] = []

    class Inspector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in {"script", "img", "svg", "iframe", "style", "object", "embed", "form", "details", "math"}:
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on") or name == "style":
                    found.append(f"{tag}[{name}]")
                if name in {"href", "src", "action", "formaction"} and value and not value.startswith(
                    ("http://", "https://", "mailto:")
                ):
                    found.append(f"{tag}[{name}={value}]")

    Inspector().feed(html)
    return found


async def test_widget_buttons_call_their_tool_once(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/user a")
        await wait_until_idle(user)
        buttons = [b for b in user.find(ui.button).elements if (b.text or "").startswith("Orders of ")]
        assert len(buttons) == 4
        user.find(buttons[0].text).click()
        await wait_until_idle(user)
        assert all(not button.enabled for button in buttons)  # the choice is made: all disabled
        assert len(user.find(marker="tool-card").elements) == 2
        await user.should_see("sql_query", marker="tool-card")
        assert len(user.find(ui.table).elements) == 2


async def test_data_sources_add_context_and_show_citations(simulated_app, llm_server, tmp_path) -> None:
    import shutil

    from galaxy_chat.testing.app_process import ROOT

    shutil.copytree(ROOT / "data" / "sources", tmp_path / "data" / "sources")
    llm_server.script(Reply(200, openai_text("Two years [1].")))
    env = model_file(tmp_path, llm_server) | {"DATA_SOURCES_FILE": str(ROOT / "config" / "data_sources.yml")}
    async with simulated_app(TEST_MODE="true", **env) as user:
        await user.open("/")
        (sources,) = user.find(marker="data-select").elements
        assert "handbook" in sources.options
        sources.set_value(["handbook"])
        await send(user, "How long is the warranty on laptops?")
        await wait_until_idle(user)
        await user.should_see("Sources used", marker="citations")
        await user.should_see("Product handbook")
        asked = next(r for r in llm_server.requests if is_chat_request(r))
        question = asked.json()["messages"][-1]["content"]
        assert "warranty" in question.lower() and "Product handbook" in question
        assert question.rstrip().endswith("How long is the warranty on laptops?")


async def test_the_status_light_follows_the_model_health(simulated_app, llm_server, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(page_header, "REFRESH_S", 0.05)
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        await app.state.services.health.check_now()
        (light,) = user.find(marker="llm-status").elements
        for _ in range(100):
            if "text-positive" in light.classes:
                break
            await asyncio.sleep(0.05)
        assert light.props["title"].startswith("Scripted: ok")
        llm_server.rules.clear()
        llm_server.when(is_health_check, Reply.json({"error": {"message": "bad key"}}, status=401))
        await app.state.services.health.check_now()
        for _ in range(100):  # no page action: the shared refresh loop repaints the light
            if "text-negative" in light.classes:
                break
            await asyncio.sleep(0.05)
        assert "text-negative" in light.classes and light.props["title"].startswith("Scripted: error")
