"""The history panel in real Chromium: chats listed and searched, an old chat with a plot opened and continued,
a reload of its address, rename, delete and Undo, and another person's chat not found."""

from __future__ import annotations

from tests.browser_helpers import chromium_page, needs_chromium, send_and_wait

pytestmark = needs_chromium
REVENUE = "/sql SELECT month, ROUND(SUM(revenue)) AS revenue FROM monthly_sales GROUP BY month ORDER BY month"


def test_find_open_continue_rename_delete_and_undo(app_process) -> None:
    server = app_process("--test-mode")
    with chromium_page(server.url) as (page, errors):
        send_and_wait(page, REVENUE)
        page.locator(".js-plotly-plot").first.wait_for(timeout=15_000)
        page.get_by_test_id("new-chat-button").click()
        page.get_by_test_id("welcome").wait_for(timeout=10_000)  # the new chat is empty
        send_and_wait(page, "/calc 6*7")
        items = page.get_by_test_id("history-item")
        items.nth(1).wait_for(timeout=10_000)
        assert [items.nth(n).inner_text() for n in range(2)] == ["/calc 6*7", REVENUE[:59] + "…"]

        page.get_by_test_id("history-search").fill("monthly_sales")
        page.get_by_test_id("history-snippet").locator("mark").first.wait_for(timeout=10_000)
        assert items.count() == 1
        items.first.click()  # the old chat, with its plot, is the live chat again
        page.wait_for_url("**/c/*", timeout=10_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=15_000)
        send_and_wait(page, "/calc 1+1")
        page.locator(".gc-md", has_text="1+1 = 2").first.wait_for(timeout=10_000)
        address = page.url

        page.reload(wait_until="networkidle")  # its own address: a reload shows it whole
        page.locator(".js-plotly-plot").first.wait_for(timeout=15_000)
        page.locator(".gc-md", has_text="1+1 = 2").first.wait_for(timeout=10_000)
        assert page.url == address

        page.get_by_test_id("history-search").fill("")
        first = items.first
        first.hover()
        first.get_by_test_id("history-rename").click()
        page.get_by_test_id("history-rename-input").fill("Revenue by month")
        page.keyboard.press("Enter")
        page.get_by_test_id("history-item").get_by_text("Revenue by month").wait_for(timeout=10_000)

        other = page.get_by_test_id("history-item").filter(has_text="/calc 6*7")
        other.hover()
        other.get_by_test_id("history-delete").click()
        other.wait_for(state="detached", timeout=10_000)
        page.get_by_role("button", name="Undo").click()
        page.get_by_test_id("history-item").filter(has_text="/calc 6*7").wait_for(timeout=10_000)
        assert errors == []

    with chromium_page(address, headers={"X-EMAIL-USER": "mallory@example.com"}) as (page, _):
        page.get_by_text("Chat not found").wait_for(timeout=10_000)
        assert page.get_by_text("monthly_sales").count() == 0
