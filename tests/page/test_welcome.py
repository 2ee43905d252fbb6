"""A newcomer's first minute: the welcome in an empty chat, its examples, and every tool for the test user."""

from __future__ import annotations

import asyncio
import html

from galaxy_chat.testing.app_process import ROOT, free_port
from galaxy_chat.testing.llm_server import Reply, is_health_check
from galaxy_chat.ui import page_header
from galaxy_chat.ui.welcome import EXAMPLES
from tests.page_helpers import is_shown, send, shown_html, wait_until_idle

SHIPPED_PERMISSIONS = str(ROOT / "config" / "permissions.yml")


def welcome_examples(user) -> list:
    """The examples the welcome shows, in its order (each button's index is what a click sends)."""
    (welcome,) = user.find(marker="welcome").elements
    return [e for e in EXAMPLES if html.escape(e.label) in welcome.content]


def click_example(user, label_start: str) -> None:
    index = next(n for n, e in enumerate(welcome_examples(user)) if e.label.startswith(label_start))
    user.find(marker="welcome").trigger("click", index)


async def test_an_empty_chat_welcomes_and_says_there_is_no_model(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await user.should_see("Welcome to Galaxy Chat", marker="welcome")
        await user.should_see("No language model is configured", marker="welcome")
        await user.should_see("see “Models” in the README", marker="welcome")
        labels = [e.label for e in welcome_examples(user)]
        assert labels[0].startswith("/help") and any(label.startswith("/sql") for label in labels)


async def test_a_question_without_any_model_says_so_and_keeps_the_text(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "Hello, what can you do?")
        await user.should_see("No language model is set up yet: commands such as /help work without one")
        (box,) = user.find(marker="chat-input").elements
        assert box.value == "Hello, what can you do?"  # given back, not lost


async def test_an_example_runs_without_a_model_and_the_welcome_goes(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        click_example(user, "/sql")
        await asyncio.sleep(0.1)
        await wait_until_idle(user)
        await user.should_see("sql_query", marker="tool-card")
        assert is_shown(user, "widget-plot") and is_shown(user, "widget-table")
        assert not is_shown(user, "welcome")  # gone with the first message, not merely hidden
        assert "Welcome to" not in shown_html(user)


async def test_the_browser_cannot_send_its_own_text_through_an_example(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        for forged in ("/python import os", 99, -1, True, None):
            user.find(marker="welcome").trigger("click", forged)
        await asyncio.sleep(0.2)
        assert not is_shown(user, "message-user") and is_shown(user, "welcome")


async def test_the_quick_start_user_gets_every_tool(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true", PERMISSIONS_FILE=SHIPPED_PERMISSIONS) as user:
        await user.open("/")
        (tools,) = user.find(marker="tools-select").elements
        assert tools.value == ["calculator", "python", "sql_query", "user_lookup"]
        assert "/python" in welcome_examples(user)[2].label
        await send(user, "/help")
        await wait_until_idle(user)
        assert "/python" in shown_html(user) and "Not enabled for you" not in shown_html(user)


async def test_a_command_the_person_lacks_says_it_is_not_enabled(simulated_app) -> None:
    async with simulated_app(PERMISSIONS_FILE=SHIPPED_PERMISSIONS) as user:
        user.http_client.headers["X-EMAIL-USER"] = "visitor@elsewhere.org"  # the default group: no python
        await user.open("/")
        assert all(not e.label.startswith("/python") for e in welcome_examples(user))
        await send(user, "/python print(1)")
        await wait_until_idle(user)
        await user.should_see("`/python` is not enabled for you", marker="reply-error")
        assert not is_shown(user, "retry-button")


async def test_an_unreachable_model_is_named_before_anyone_types(simulated_app, tmp_path) -> None:
    config = tmp_path / "llms.yml"
    config.write_text(f"models:\n  - name: Local\n    provider: openai\n    base_url: http://127.0.0.1:{free_port()}/v1\n"
                      "    api_key: sk-x\n    model_name: m\n")
    async with simulated_app(TEST_MODE="true", LLM_CONFIG_FILE=str(config)) as user:
        report = (await user.http_client.post("/ready/models/check")).json()
        assert "error" in str(report)
        await user.open("/")
        await user.should_see("The model Local failed its last check", marker="welcome")


async def test_the_notice_appears_when_a_later_health_check_fails(simulated_app, llm_server, tmp_path,
                                                                  monkeypatch) -> None:
    monkeypatch.setattr(page_header, "REFRESH_S", 0.1)
    # The health check's answer comes 1.5 s late and is a refusal: the page is open well before it.
    llm_server.when(is_health_check, Reply(401, [1.5, b'{"error": {"message": "bad key"}}'],
                                           {"Content-Type": "application/json"}))
    config = tmp_path / "llms.yml"
    config.write_text(f"models:\n  - name: Local\n    provider: openai\n    base_url: {llm_server.base_url}/v1\n"
                      "    api_key: sk-x\n    model_name: m\n")
    async with simulated_app(TEST_MODE="true", LLM_CONFIG_FILE=str(config)) as user:
        await user.open("/")
        (welcome,) = user.find(marker="welcome").elements
        assert "failed its last check" not in welcome.content  # not known yet
        for _ in range(50):
            if "failed its last check" in welcome.content:
                break
            await asyncio.sleep(0.1)
        await user.should_see("The model Local failed its last check", marker="welcome")
