"""End to end in real headless Chromium (Debian's /usr/bin/chromium) against the app as a subprocess."""

from __future__ import annotations

from pathlib import Path

from galaxy_chat.testing.app_process import ROOT
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_chunk, openai_text, openai_tool_calls
from tests.browser_helpers import chromium_page, needs_chromium, scripted_model, send_and_wait

pytestmark = needs_chromium


def test_page_is_live_and_commands_round_trip(app_process) -> None:
    server = app_process("--test-mode", APP_NAME="Galaxy Chat E2E")
    with chromium_page(server.url) as (page, errors):
        assert page.title() == "Galaxy Chat E2E"
        page.get_by_text("test@test.com").first.wait_for(timeout=10_000)
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        box = page.get_by_test_id("chat-input")
        box.fill("first line")
        box.press("Shift+Enter")
        box.press_sequentially("second line")
        assert box.input_value() == "first line\nsecond line"  # Shift+Enter adds a line, does not send
        send_and_wait(page, "/calc 2*(3+4)")
        # The card is built on the server: seeing it proves the WebSocket round trip.
        page.get_by_test_id("tool-card").get_by_text("calculator").wait_for(timeout=10_000)
        page.locator(".gc-md", has_text="2*(3+4) =").first.wait_for(timeout=10_000)
        assert box.input_value() == ""
        # The reply's text component came with the page (modulepreload), not as a fetch at the first reply.
        assert not [url for url in fetched if url.endswith("stream_text.js")]
        assert page.get_by_text("connecting", exact=False).count() == 0
        assert errors == []


# How many looks the "thinking" dots had over a second (sampled every 100 ms): 2 or 3 while they step.
DOTS_LOOKS_JS = """dots => new Promise(resolve => {
  const seen = new Set(), sample = setInterval(() => seen.add(getComputedStyle(dots, '::after').content), 100);
  setTimeout(() => { clearInterval(sample); resolve(seen.size); }, 1000);
})"""


def test_a_streamed_reply_and_stop(app_process, tmp_path: Path) -> None:
    with scripted_model(tmp_path) as (llm, env):
        llm.script(Reply(200, openai_text("Hello **there**", ", friend.")))
        tick = openai_chunk({"content": "tick "})
        llm.script(Reply(200, [3.0, tick, *[0.1, tick] * 150]))  # 3 s to the first token
        server = app_process("--test-mode", **env)
        with chromium_page(server.url) as (page, errors):
            send_and_wait(page, "Hi")
            reply = page.get_by_test_id("message-assistant").first
            reply.locator(".gc-md strong", has_text="there").wait_for(timeout=5_000)  # markdown, rendered
            box = page.get_by_test_id("chat-input")
            box.fill("Count")
            box.press("Enter")
            dots = page.get_by_test_id("message-assistant").nth(1).locator(".gc-thinking")
            dots.wait_for(timeout=5_000)
            page.wait_for_timeout(500)
            # While it waits, the dots step; no CSS animation runs (one would make the browser draw every
            # frame, and the first token would wait for the next frame tick).
            assert dots.evaluate(DOTS_LOOKS_JS) >= 2
            assert page.evaluate("document.getAnimations().length") == 0
            page.get_by_text("tick tick").first.wait_for(timeout=10_000)
            # Text is streaming: the "thinking" spinner is gone (page CSS), the reply still running.
            running = page.get_by_test_id("message-assistant").nth(1)
            assert running.locator(".gc-thinking").is_hidden() and page.get_by_test_id("stop-button").is_visible()
            page.keyboard.press("Escape")  # Esc stops, like the Stop button
            page.get_by_test_id("send-button").wait_for(state="visible", timeout=5_000)
            page.get_by_text("stopped").first.wait_for(timeout=5_000)
            assert page.get_by_test_id("message-assistant").nth(1).get_by_text("tick").count() >= 1
            assert errors == []


# After every streamed change, the open tail as shown must equal a fresh parse of its text (the page adds
# plain words to the last text node instead of parsing the tail again).
TAIL_CHECK_JS = """() => {
  window.__tail = {checked: 0, wrong: []};
  window.socket.on('gc_text', message => {
    const view = getElement(message.i), probe = document.createElement('div');
    probe.innerHTML = view.text;
    window.__tail.checked += 1;
    if (probe.innerHTML !== view.$refs.tail.innerHTML) window.__tail.wrong.push([view.text, view.$refs.tail.innerHTML]);
  });
}"""
TRICKY_MARKDOWN = ("Intro with **bold words** and *em* and `code` & more < less.\n\n- item one\n- item **two**\n\n"
                   "> quoted words here\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                   "```python\nx = 1 < 2\nprint(x)\n```\n\nEnd.")


def test_streamed_markdown_shows_the_same_as_a_fresh_render_at_every_step(app_process, tmp_path: Path) -> None:
    pieces = [TRICKY_MARKDOWN[i:i + 3] for i in range(0, len(TRICKY_MARKDOWN), 3)]
    chunks: list[bytes | float] = []
    for chunk in openai_text(*pieces):
        chunks += [chunk, 0.02]  # each piece its own update
    with scripted_model(tmp_path) as (llm, env):
        llm.script(Reply(200, chunks))
        server = app_process("--test-mode", **env)
        with chromium_page(server.url) as (page, errors):
            page.wait_for_function("window.socket !== undefined", timeout=10_000)
            page.evaluate(TAIL_CHECK_JS)
            send_and_wait(page, "Show me markdown")
            page.locator(".gc-md pre").first.wait_for(timeout=5_000)
            tail = page.evaluate("window.__tail")
            assert tail["checked"] > len(pieces) // 2 and tail["wrong"] == []
            assert page.locator(".gc-md table td", has_text="2").count() == 1
            assert errors == []


UNOCSS_JS = "() => [...document.querySelectorAll('style[data-unocss-runtime-layer]')].map(s => s.textContent).join()"
# Counts every time UnoCSS writes one of its style sheets, even with the same text: each write restyles the page.
COUNT_CSS_WRITES_JS = """() => {
  window.__cssWrites = 0;
  const sheets = document.querySelectorAll('style[data-unocss-runtime-layer]');
  const observer = new MutationObserver(changes => { window.__cssWrites += changes.length; });
  sheets.forEach(sheet => observer.observe(sheet, {childList: true, characterData: true, subtree: true}));
  return sheets.length;
}"""


def test_a_tool_call_renders_a_plot_and_a_table(app_process, tmp_path: Path) -> None:
    query = '{"query": "SELECT month, SUM(revenue) AS revenue FROM monthly_sales GROUP BY month"}'
    with scripted_model(tmp_path) as (llm, env):
        llm.script(Reply(200, openai_tool_calls(("call_1", "sql_query", [query]))),
                   Reply(200, openai_text("Revenue by month is above.")),
                   Reply.json({"error": {"message": "bad key"}}, status=401))
        server = app_process("--test-mode", **env)
        with chromium_page(server.url) as (page, errors):
            page.wait_for_function("!document.querySelector('#app.nicegui-unocss-loading')", timeout=10_000)
            page.wait_for_timeout(500)  # UnoCSS has written the page's CSS
            css_at_load = page.evaluate(UNOCSS_JS)
            assert "whitespace-pre-wrap" in css_at_load and page.evaluate(COUNT_CSS_WRITES_JS) >= 1
            send_and_wait(page, "Show revenue by month")
            page.locator(".js-plotly-plot").first.wait_for(timeout=15_000)
            page.locator(".q-table tbody tr").nth(9).wait_for(timeout=5_000)  # a page of 10 rows
            page.get_by_text("Revenue by month is above.").wait_for(timeout=5_000)
            send_and_wait(page, "/calc 1/0")  # a card in its error state
            page.locator(".gc-tool-error").wait_for(timeout=5_000)
            send_and_wait(page, "And now?")  # the model fails: a toast, and an inline error with Retry
            page.get_by_text("Retry").wait_for(timeout=5_000)
            page.locator(".q-notification").first.wait_for(timeout=5_000)
            page.wait_for_timeout(300)
            # UnoCSS wrote no CSS on the way, not even the same again: a style sheet written restyles the whole
            # page, in the middle of a reply (a button with a label and a toast bring new utility classes).
            assert page.evaluate("window.__cssWrites") == 0
            # A utility class the page has not used yet (a custom widget's, say) still gets its CSS.
            page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div class=\"mt-[13px]\"></div>')")
            page.wait_for_function("window.__cssWrites > 0", timeout=5_000)
            assert "13px" in page.evaluate(UNOCSS_JS)
            assert errors == []


def test_sigterm_with_a_browser_connected_stops_within_5_seconds(app_process) -> None:
    server = app_process("--test-mode")
    with chromium_page(server.url) as (page, _):
        page.get_by_text("test@test.com").first.wait_for(timeout=10_000)
        code, seconds = server.terminate()
        assert code == 0, server.output()
        assert seconds < 5, f"took {seconds:.1f} s"


LONG_REPLY = "".join([
    "Intro with **bold**, an emoji 😀 and <b>raw html</b>.\n\n",
    *[f"Paragraph {n}: " + " ".join(f"word{i}" for i in range(30)) + " 🚀\n\n" for n in range(12)],
    "```python\n", *[f"value_{i} = {i} * 2  # 😀 line {i}\n" for i in range(60)], "```\n\n",
    *[f"- item {i} with `code {i}`\n" for i in range(20)], "\n",
    " ".join(f"flat{i}" for i in range(400)), "\n\nThe end.",
])


def pieces(text: str, size: int) -> list[str]:
    return [text[start:start + size] for start in range(0, len(text), size)]


def visible_text(html: str) -> str:
    """What a reader sees of some HTML: tags dropped, entities decoded, whitespace collapsed."""
    import html as html_module
    import re

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_long_replies_arrive_whole_at_any_speed(app_process, tmp_path: Path) -> None:
    """Streaming sends only the changed end of a reply; whatever the timing, the page ends up showing the
    whole reply exactly once: full speed (changes pile up while a snapshot is on its way) and paced."""
    from galaxy_chat.ui.markdown_render import render_markdown

    expected = visible_text(render_markdown(LONG_REPLY))
    paced = [item for piece in pieces(LONG_REPLY, 7) for item in (0.002, openai_chunk({"content": piece}))]
    with scripted_model(tmp_path) as (llm, env):
        ends = openai_text()  # the opening chunk, then the finish, usage and [DONE]
        llm.script(Reply(200, openai_text(*pieces(LONG_REPLY, 3))), Reply(200, [ends[0], *paced, *ends[1:]]))
        server = app_process("--test-mode", **env)
        with chromium_page(server.url) as (page, errors):
            for turn, prompt in enumerate(("Fast", "Paced")):
                send_and_wait(page, prompt, timeout_ms=60_000)
                reply = page.get_by_test_id("message-assistant").nth(turn).locator(".gc-md")
                shown = reply.evaluate("e => { const c = e.cloneNode(true); c.querySelectorAll('.gc-copy')"
                                       ".forEach(b => b.remove()); return c.innerHTML; }")
                assert visible_text(shown) == expected, prompt
                assert reply.locator("pre").count() == 1 and reply.locator("li").count() == 20
                assert reply.locator("b").count() == 0  # the model's raw HTML stays text
            assert errors == []


def test_the_view_follows_new_text_until_you_scroll_up(app_process, tmp_path: Path) -> None:
    line = openai_chunk({"content": "A line of the reply that keeps coming.\n\n"})
    with scripted_model(tmp_path) as (llm, env):
        llm.script(Reply(200, [openai_chunk({"role": "assistant", "content": ""}), *[0.02, line] * 400,
                               *openai_text()[1:]]))
        server = app_process("--test-mode", **env)
        with chromium_page(server.url, height=600) as (page, errors):
            box = page.get_by_test_id("chat-input")
            box.fill("Go on")
            box.press("Enter")
            at_bottom = "() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 130"
            page.wait_for_function("() => document.documentElement.scrollHeight > 3 * window.innerHeight",
                                   timeout=15_000)
            page.wait_for_function(at_bottom, timeout=5_000)  # following the newest text
            jump = page.get_by_test_id("jump-latest")
            assert not jump.is_visible()
            page.mouse.wheel(0, -2000)  # the reader scrolls up: the view stays where they are
            jump.wait_for(state="visible", timeout=5_000)
            where = page.evaluate("window.scrollY")
            page.wait_for_timeout(500)
            assert page.evaluate("window.scrollY") == where
            jump.click()
            page.wait_for_function(at_bottom, timeout=5_000)
            jump.wait_for(state="hidden", timeout=5_000)
            page.get_by_test_id("stop-button").click()
            page.get_by_test_id("send-button").wait_for(state="visible", timeout=5_000)
            assert errors == []


def test_the_page_fits_a_phone_and_a_wide_screen(app_process) -> None:
    """Layout comes from utility classes (UnoCSS, Tailwind's names) and Quasar: if the classes were not
    generated, the box would shrink to its content and the page would scroll sideways on a phone."""
    server = app_process("--test-mode")
    for width, height in ((375, 800), (1920, 1080)):
        with chromium_page(server.url, width=width, height=height) as (page, errors):
            box = page.get_by_test_id("chat-input")
            box.wait_for(timeout=10_000)
            page.wait_for_timeout(300)  # the utility CSS is generated once the page is mounted
            # the box with its attach button: the element whose class list holds q-field
            field = box.locator("xpath=ancestor::*[contains(concat(' ', @class, ' '), ' q-field ')]")
            box_width = field.bounding_box()["width"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sideways
            assert box_width >= min(0.7 * width, 800), (width, box_width)  # most of the page's (column's) width
            assert page.get_by_test_id("tools-select").is_visible() == (width > 1000)  # drawer: closed on a phone
            header = page.get_by_test_id("feedback-button").bounding_box()
            assert header["x"] + header["width"] <= width  # the whole header fits
            assert box.bounding_box()["height"] >= 3 * 18  # at least three rows
            assert errors == []


def test_a_newcomer_clicks_a_welcome_example_and_gets_a_plot(app_process) -> None:
    shipped = str(ROOT / "config" / "permissions.yml")
    server = app_process("--test-mode", PERMISSIONS_FILE=shipped)
    with chromium_page(server.url, width=375, height=800) as (page, errors):
        welcome = page.get_by_test_id("welcome")
        welcome.get_by_text("No language model is configured", exact=False).wait_for(timeout=10_000)
        welcome.get_by_text("/python", exact=False).click()
        page.get_by_test_id("tool-card").get_by_text("python", exact=True).wait_for(timeout=20_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=20_000)
        assert welcome.count() == 0  # gone with the first message
        assert errors == []
