"""Files in real Chromium: a CSV dropped on the page and queried with /sql (table and chart), read by /python into
a plot, a chip removed, a refused file's toast, a pasted image shown in its message, a PDF question answered
with a page citation."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text
from tests.browser_helpers import chromium_page, needs_chromium, scripted_model, send_and_wait
from tests.files.makers import pdf, png

pytestmark = needs_chromium
CSV = "region,month,amount\nNorth,2024-01,10.5\nSouth,2024-01,7\nNorth,2024-02,4.5\nSouth,2024-02,3\n"
PLOT = ("/python import pandas as pd, plotly.express as px\n"
        "df = pd.read_csv('data/sales_2024.csv')\n"
        "print(df.groupby('region').amount.sum().to_dict())\n"
        "fig = px.bar(df, x='region', y='amount')")


def drop(page: Any, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    """What a person's drag and drop does: a drop event with the file on the page."""
    page.evaluate("""([name, data, mime]) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        document.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        document.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [name, base64.b64encode(data).decode(), mime])


def test_a_dropped_csv_is_queried_by_sql_and_python(app_process) -> None:
    server = app_process("--test-mode")
    with chromium_page(server.url) as (page, errors):
        drop(page, "sales_2024.csv", CSV.encode(), "text/csv")
        chip = page.get_by_test_id("attachment-chip")
        chip.get_by_text("4 rows \N{MULTIPLICATION SIGN} 3 columns").wait_for(timeout=15_000)
        chip.click()  # the preview: the file's first rows
        page.get_by_test_id("file-preview").get_by_text("North").first.wait_for(timeout=10_000)
        page.get_by_test_id("file-preview").get_by_role("button", name="Close").click()
        page.get_by_test_id("file-preview").wait_for(state="detached", timeout=10_000)

        send_and_wait(page, "/sql SELECT month, SUM(amount) AS amount FROM sales_2024 GROUP BY month ORDER BY month")
        page.get_by_test_id("attached-file").get_by_text("sales_2024.csv").wait_for(timeout=10_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=15_000)  # month + amount: a chart too
        assert page.get_by_test_id("attachment-chip").count() == 0  # the tray is empty once sent

        send_and_wait(page, PLOT, timeout_ms=60_000)
        page.get_by_text("{'North': 15.0, 'South': 10.0}", exact=True).wait_for(timeout=10_000)
        page.locator(".js-plotly-plot").nth(1).wait_for(timeout=15_000)

        drop(page, "notes.txt", b"some notes\n")
        page.get_by_test_id("attachment-chip").wait_for(timeout=15_000)
        page.get_by_test_id("attachment-remove").click()
        page.get_by_test_id("attachment-chip").wait_for(state="detached", timeout=10_000)

        drop(page, "empty.csv", b"")
        page.locator(".q-notification").get_by_text("empty.csv").wait_for(timeout=10_000)
        assert page.get_by_test_id("attachment-chip").count() == 0
        # The refused upload's answer (400) is the only thing the browser reports
        assert [error for error in errors if "status of 400" not in error] == [] and len(errors) == 1


def test_a_pasted_image_is_shown_in_the_message(app_process) -> None:
    server = app_process("--test-mode")
    with chromium_page(server.url) as (page, errors):
        page.get_by_test_id("chat-input").click()
        page.evaluate("""data => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "image.png", {type: "image/png"}));
            document.activeElement.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer,
                                                                              bubbles: true, cancelable: true}));
        }""", base64.b64encode(png(5, 4)).decode())
        page.get_by_test_id("attachment-chip").get_by_text("5 \N{MULTIPLICATION SIGN} 4").wait_for(timeout=15_000)
        send_and_wait(page, "/calc 2*21")
        image = page.get_by_test_id("attached-files").locator("img")
        image.wait_for(timeout=10_000)
        page.wait_for_function("() => document.querySelector('[data-testid=attached-files] img').naturalWidth === 5",
                               timeout=10_000)  # drawn from /api/files/<id>
        assert errors == []


def test_a_pdf_question_is_answered_with_a_page_citation(app_process, tmp_path: Path) -> None:
    with scripted_model(tmp_path) as (model, env):
        model.server.script(Reply(200, openai_text("The deposit is 250 euros [1].")))
        server = app_process("--test-mode", **env)
        with chromium_page(server.url) as (page, errors):
            drop(page, "lease.pdf", pdf(["Lease agreement between the parties.",
                                          "The security deposit is 250 euros, paid before moving in."]))
            page.get_by_test_id("attachment-chip").get_by_text("2 pages").wait_for(timeout=15_000)
            send_and_wait(page, "How much is the security deposit?")
            page.get_by_text("The deposit is 250 euros").wait_for(timeout=10_000)
            page.get_by_text("Sources used (1)").click()
            page.get_by_text("page 2").first.wait_for(timeout=10_000)
            assert errors == []
