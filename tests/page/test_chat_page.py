"""The chat page as a signed-in user sees it (NiceGUI's simulated user, no browser)."""

from __future__ import annotations

from nicegui import ui

from tests.page_helpers import send, shown_html, wait_until_idle


async def test_page_shows_app_name_email_and_the_controls(simulated_app) -> None:
    async with simulated_app(APP_NAME="Acme Chat") as user:
        user.http_client.headers["X-EMAIL-USER"] = "Bob@Example.com"
        await user.open("/")
        await user.should_see("Acme Chat", marker="app-name")
        await user.should_see("bob@example.com", marker="user-email")
        await user.should_not_see(marker="test-mode-badge")
        for marker in ("chat-input", "send-button", "model-select", "tools-select", "data-select",
                       "new-chat-button"):
            assert len(user.find(marker=marker).elements) == 1, marker


async def test_test_mode_shows_a_badge(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await user.should_see("test mode", marker="test-mode-badge")
        await user.should_see("test@test.com", marker="user-email")


async def test_commands_work_without_any_model(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/calc 2*(3+4)")
        await wait_until_idle(user)
        await user.should_see("/calc 2*(3+4)", marker="message-user")
        await user.should_see("calculator", marker="tool-card")
        await user.should_see("2*(3+4) = 14")
        (textarea,) = user.find(marker="chat-input").elements
        assert textarea.value == ""


async def test_sql_command_shows_a_table_and_a_plot(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/sql SELECT category, count(*) AS n FROM products GROUP BY category")
        await wait_until_idle(user)
        (table,) = user.find(ui.table).elements
        assert [column["label"] for column in table.columns] == ["category", "n"]
        assert all(column["sortable"] for column in table.columns)
        assert len(user.find(ui.plotly).elements) == 1


async def test_help_lists_the_commands(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/help")
        await wait_until_idle(user)
        html = shown_html(user)
        for command in ("/calc", "/sql", "/python", "/user", "/help"):
            assert command in html


async def test_unknown_command_gets_an_inline_error_and_a_toast(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "/frobnicate")
        await wait_until_idle(user)
        await user.should_see("Unknown command /frobnicate", marker="reply-error")
        assert any("Unknown command" in message for message in user.notify.messages)


async def test_blank_message_is_not_sent(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await send(user, "   ")
        await user.should_not_see(marker="message-user")
