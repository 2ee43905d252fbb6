"""The chat page as a signed-in user sees it (NiceGUI's simulated user, no browser)."""

from __future__ import annotations

from nicegui import ui


async def test_page_shows_app_name_and_email(simulated_app) -> None:
    async with simulated_app(APP_NAME="Acme Chat") as user:
        user.http_client.headers["X-EMAIL-USER"] = "Bob@Example.com"
        await user.open("/")
        await user.should_see("Acme Chat", marker="app-name")
        await user.should_see("bob@example.com", marker="user-email")
        await user.should_not_see(marker="test-mode-badge")
        await user.should_see("Start the conversation below.")
        assert len(user.find(marker="message-input").elements) == 1


async def test_test_mode_shows_a_badge(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        await user.should_see("test mode", marker="test-mode-badge")
        await user.should_see("test@test.com", marker="user-email")


async def test_sending_a_message_shows_it_and_clears_the_input(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        user.find(marker="message-input").type("Hello there")
        user.find(marker="send").click()
        await user.should_see("Hello there", marker="user-message")
        await user.should_see("No language model is connected yet")
        (textarea,) = user.find(ui.textarea).elements
        assert textarea.value == ""


async def test_blank_message_is_not_sent(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true") as user:
        await user.open("/")
        user.find(marker="message-input").type("   ")
        user.find(marker="send").click()
        await user.should_not_see(marker="user-message")
