"""Opening a stored 500-message conversation in the browser: the app as a subprocess (its own SQLite history),
headless Chromium; prints figures, not a test.

    uv run python bench/history_page_bench.py [--turns 250] [--trials 5]

Seeds one conversation of `turns` exchanges (a question and a ~600-character Markdown answer each) through the
store's own API, then opens `/c/<id>` and times: the server's answer to the page request (the chat restored
from the database, its turns rendered into elements), and, in Chromium, navigation start to first contentful
paint and to the last message being shown. The page shows the last RECENT_TURNS (10) turns; earlier ones on request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the repository root

import httpx

from galaxy_chat.store import open_store, upgrade
from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.browser import CHROMIUM, CHROMIUM_ARGS

OWNER = "test@test.com"
ANSWER = ("Here is **what** I found, step by step:\n\n1. The first point, with `code` in it.\n2. A second point "
          "that runs a little longer to fill the line.\n\n```python\nprint('hello')\n```\n\nAnd a closing paragraph "
          "that explains the rest in plain words, so the reply is about six hundred characters long. ") * 2
DONE = {"type": "done", "usage": {"input_tokens": 50, "output_tokens": 200}, "duration_s": 2.0,
        "first_token_s": 0.3, "rounds": 1, "stopped": False}


async def seed(data_dir: Path, turns: int) -> str:
    await upgrade("", data_dir)
    store = await open_store("", data_dir)
    try:
        chat = await store.create_conversation(OWNER, title="A long chat", models=["Scripted"])
        last = None
        for n in range(turns):
            question = await store.append_message(OWNER, chat, "user", model="Scripted", text=f"Question {n}?",
                                                  after=last)
            reply = await store.append_message(OWNER, chat, "assistant", model="Scripted", after=question)
            await store.append_parts(OWNER, reply, [{"type": "text_delta", "text": f"Answer {n}. {ANSWER}"}])
            await store.finish_message(OWNER, reply, DONE)
            last = reply
        return chat
    finally:
        await store.close()


# Started just before the click: the time until `text` is in the page and a frame has been drawn with it.
PAINTED_JS = """text => {
  window.gcStart = performance.now();
  window.gcPainted = null;
  const look = () => document.body.innerText.includes(text)
    ? requestAnimationFrame(() => { window.gcPainted = performance.now() - window.gcStart; })
    : requestAnimationFrame(look);
  look();
}"""


def browser_times(base: str, chat: str, turns: int, trials: int) -> dict[str, list[float]]:
    """Loading `/c/<id>` (navigation start to the last answer shown), loading an empty `/` (the page itself),
    and opening the chat from the history panel of a loaded page (click to painted)."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {"load": [], "empty": [], "click": []}
    last = f"Answer {turns - 1}."
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for _ in range(trials):
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(f"{base}/c/{chat}", wait_until="commit")
            page.get_by_text(last).first.wait_for(timeout=30_000)
            times["load"].append(page.evaluate("performance.now()"))
            page.wait_for_load_state("networkidle")
            page.get_by_test_id("new-chat-button").click()
            page.get_by_test_id("welcome").wait_for(timeout=30_000)
            item = page.get_by_test_id("history-item").first
            page.evaluate(PAINTED_JS, last)
            item.click()
            page.wait_for_function("window.gcPainted !== null", timeout=30_000)
            times["click"].append(page.evaluate("window.gcPainted"))
            page.close()
            other = browser.new_context(extra_http_headers={"X-EMAIL-USER": "newcomer@example.com"}).new_page()
            other.goto(f"{base}/", wait_until="commit")
            other.get_by_test_id("welcome").wait_for(timeout=30_000)
            times["empty"].append(other.evaluate("performance.now()"))
            other.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=250)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        began = time.perf_counter()
        chat = asyncio.run(seed(root / "data", args.turns))
        print(f"seeded {2 * args.turns} messages in {time.perf_counter() - began:.1f} s")
        app = AppProcess(root, ["--test-mode"], {"OLLAMA_BASE_URL": "http://127.0.0.1:9"})
        app.start(timeout=60)
        try:
            url = f"{app.url}/c/{chat}"
            server = []
            for _ in range(args.trials + 1):
                start = time.perf_counter()
                assert httpx.get(url, timeout=30).status_code == 200
                server.append((time.perf_counter() - start) * 1000)
            server = server[1:]  # the first warms the process up
            browser = browser_times(app.url, chat, args.turns, args.trials)
        finally:
            app.stop()
    print(f"page request, server answer: median {statistics.median(server):.0f} ms (min {min(server):.0f}, "
          f"max {max(server):.0f})")
    for name, label in (("load", "load /c/<id> until its last answer shows"), ("empty", "load an empty chat page"),
                        ("click", "open it from the history panel, click to painted")):
        values = browser[name]
        print(f"{label}: median {statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f})")


if __name__ == "__main__":
    main()
