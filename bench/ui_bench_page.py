"""The browser side of bench/ui_stream_bench.py: Chromium tabs that record when each token is painted.

An init script in every tab watches the DOM (MutationObserver). When the newest reply's text shows a new
highest token, every token up to it gets its DOM time (the observer's callback) and its paint time: the
first moment after the frame that renders it (requestAnimationFrame, then a message-channel hop, which
runs once that frame has been rendered; for a change made inside a frame callback, that frame). Times
are wall clock, performance.timeOrigin + performance.now(), so they compare with the scripted server's
time.time() (same machine; the offset between the two clocks is measured too).
"""

from __future__ import annotations

import time
from typing import Any

from galaxy_chat.testing.browser import CHROMIUM, CHROMIUM_ARGS

# Every tab is "visible" in headless Chromium; these keep timers and frames of background tabs unthrottled.
BENCH_ARGS = [*CHROMIUM_ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
              "--disable-backgrounding-occluded-windows"]

OBSERVER_JS = r"""
(() => {
  const S = window.__gc = {keydown: [], replies: {}};
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener('keydown', e => { if (e.key === 'Enter') S.keydown.push(now()); }, true);
  let waiting = [];
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    const t = now();
    for (const [r, i] of waiting) r.paint[i] = t;
    waiting = [];
  };
  // A change made inside an animation frame callback is painted in that same frame: mark the frame as in
  // progress until a message posted from it runs (messages run after the frame has been rendered).
  let inFrame = false;
  const frameEnd = new MessageChannel();
  frameEnd.port1.onmessage = () => { inFrame = false; };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = callback => raf(t => {
    if (!inFrame) { inFrame = true; frameEnd.port2.postMessage(0); }
    callback(t);
  });
  const afterPaint = () => {
    if (inFrame) channel.port2.postMessage(0); else raf(() => channel.port2.postMessage(0));
  };
  const scan = () => {
    const all = document.querySelectorAll('[data-testid="message-assistant"] .gc-md');
    if (!all.length) return;
    const text = all[all.length - 1].textContent;
    const head = /^\s*r(\d+)/.exec(text);
    if (!head) return;
    const rid = parseInt(head[1], 10);
    const tail = /t(\d+)\D*$/.exec(text.slice(-48));
    const hi = tail ? parseInt(tail[1], 10) : 0;
    const r = S.replies[rid] || (S.replies[rid] = {max: -1, dom: [], paint: []});
    if (hi <= r.max) return;
    const t = now();
    if (!waiting.length) afterPaint();
    for (let i = r.max + 1; i <= hi; i++) { r.dom[i] = t; waiting.push([r, i]); }
    r.max = hi;
  };
  new MutationObserver(scan).observe(document, {childList: true, subtree: true, characterData: true});
})();
"""

# Press Send at a given wall-clock time (ms), so many tabs start at the same moment: pressing Enter in one
# tab after another through Playwright takes about 0.4 s a tab once the first ones are streaming.
SEND_AT_JS = """at => setTimeout(() => {
  window.__gc.keydown.push(performance.timeOrigin + performance.now());
  document.querySelector('[data-testid="send-button"]').click();
}, Math.max(0, at - (performance.timeOrigin + performance.now())))"""

DONE_JS = """([n, rids]) => rids.some(id => {
  const r = window.__gc.replies[id];
  return r && r.paint[n - 1] !== undefined;
})"""


class Browser:
    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BENCH_ARGS)
        self.people = 0

    def tab(self, url: str, inspect: bool = False) -> Tab:
        """A tab of a new person (a chat session belongs to its user, and a second tab of the same user takes
        it over), so every tab streams its own reply. Test mode believes X-EMAIL-USER."""
        self.people += 1
        context = self.browser.new_context(viewport={"width": 1280, "height": 900},
                                           extra_http_headers={"X-EMAIL-USER": f"bench{self.people}@example.com"})
        context.add_init_script(OBSERVER_JS)
        return Tab(context.new_page(), url, inspect)

    def close(self) -> None:
        self.browser.close()
        self.playwright.stop()


class Tab:
    def __init__(self, page: Any, url: str, inspect: bool = False) -> None:
        self.page = page
        self.navigations = 0
        self.ws_payload = 0  # bytes of WebSocket messages received, after decompression
        self.ws_closed = 0
        self.extensions: list[str] = []  # Sec-WebSocket-Extensions the app answered (when `inspect`)
        page.on("websocket", self._websocket)
        # A document loaded again; not "framenavigated", which also fires when a chat takes its own address
        # (history.replaceState to /c/<id> on the first message) and is no reload.
        page.on("domcontentloaded", lambda _: self._loaded())
        session = page.context.new_cdp_session(page) if inspect else None
        if session is not None:
            session.on("Network.webSocketHandshakeResponseReceived", self._handshake)
            session.send("Network.enable")
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_function("window.did_handshake === true", timeout=60_000, polling=50)
        if session is not None:
            session.detach()  # CDP network events would cost the browser time on every frame
        self.navigations = 0  # only reloads from now on

    def _loaded(self) -> None:
        self.navigations += 1

    def _websocket(self, ws: Any) -> None:
        ws.on("framereceived", self._frame)
        ws.on("close", lambda *_: setattr(self, "ws_closed", self.ws_closed + 1))

    def _handshake(self, event: dict[str, Any]) -> None:
        headers = {name.lower(): value for name, value in event["response"]["headers"].items()}
        self.extensions.append(headers.get("sec-websocket-extensions", "(none)"))

    def _frame(self, payload: str | bytes) -> None:
        self.ws_payload += len(payload.encode() if isinstance(payload, str) else payload)

    def type(self, text: str) -> None:
        self.page.get_by_test_id("chat-input").fill(text)

    def enter(self) -> None:
        self.page.get_by_test_id("chat-input").press("Enter")

    def send_at(self, wall_ms: float) -> None:
        """Press Send at `wall_ms` (this page's clock, ms since the epoch)."""
        self.page.evaluate(SEND_AT_JS, wall_ms)

    def wait_painted(self, count: int, rids: list[int], deadline: float) -> bool:
        """Until one of the replies `rids` has all `count` tokens painted (False once `deadline`, a monotonic
        time, has passed)."""
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                return bool(self.page.evaluate(DONE_JS, [count, rids]))
            self.page.wait_for_function(DONE_JS, arg=[count, rids], timeout=remaining * 1000, polling=50)
            return True
        except Exception:  # a timeout, or the page went away
            return False

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Until the Send button is back (the app has finished the reply); False on a timeout."""
        try:
            self.page.get_by_test_id("send-button").wait_for(state="visible", timeout=max(0.1, timeout_s) * 1000)
            return True
        except Exception:
            return False

    def state(self) -> dict[str, Any]:
        return self.page.evaluate("window.__gc")

    def clock_offset(self, tries: int = 7) -> float:
        """Page wall clock minus time.time(), in seconds (taken at the smallest round trip)."""
        best: tuple[float, float] = (float("inf"), 0.0)
        for _ in range(tries):
            before = time.time()
            page_now = self.page.evaluate("performance.timeOrigin + performance.now()") / 1000
            after = time.time()
            best = min(best, (after - before, page_now - (before + after) / 2))
        return best[1]

    def close(self) -> None:
        self.page.context.close()
