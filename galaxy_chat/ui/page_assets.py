"""The page's own CSS and a small script (ours, trusted): follow new text, copy buttons, Esc to stop.

Client-side on purpose: following the newest text and adding copy buttons costs the server nothing.
"""

from __future__ import annotations

import json
from functools import cache

from nicegui import Client, ui
from pygments.formatters import HtmlFormatter

from galaxy_chat.ui.streaming_markdown import preload_html

PAGE_CSS = """
.gc-main { max-width: 980px; margin: 0 auto; width: 100%; }
.gc-footer > .gc-input { max-width: 930px; }  /* with the button: the conversation's 980 px */
.gc-input textarea { min-height: 4.5em; max-height: 40vh; overflow-y: auto !important; }
.gc-md { overflow-wrap: anywhere; line-height: 1.5; }
.gc-md p { margin: 0 0 .6em 0; }
.gc-md pre { position: relative; padding: .75em; border-radius: 6px; overflow-x: auto; background: #1e1e1e; }
.gc-md table { border-collapse: collapse; margin: .5em 0; }
.gc-md th, .gc-md td { border: 1px solid #555; padding: 2px 8px; }
.gc-md a { color: #90caf9; }
/* Waiting for the reply: one, two, three dots, a step every 400 ms (PAGE_JS). Not a CSS animation: any running
   one makes the browser draw every frame, so the first token waited for the next frame tick (~5 ms more). */
.gc-thinking { display: block; height: 21px; width: 40px; }
.gc-thinking::after { content: "•••"; font-size: 20px; letter-spacing: 3px; color: #9e9e9e; display: inline-block; }
.gc-thinking[data-step="1"]::after { content: "•"; }
.gc-thinking[data-step="2"]::after { content: "••"; }
.gc-reply-body:has(> .gc-md > :not(:empty)) > .gc-thinking { display: none; }  /* text has come */
.gc-md blockquote { border-left: 3px solid #666; margin: 0; padding-left: .8em; color: #bbb; }
.gc-copy { position: absolute; top: 4px; right: 4px; font-size: 11px; padding: 1px 6px; border-radius: 4px;
           border: 1px solid #666; background: #2a2a2a; color: #ddd; cursor: pointer; opacity: .7; }
.gc-copy:hover { opacity: 1; }
.gc-tool-card { background: rgba(255,255,255,.03); }
.gc-tool-error { border-color: var(--q-negative) !important; }
.gc-msg { display: flex; flex-direction: column; gap: 2px; width: 100%; font-size: 12px; color: #9e9e9e; }
.gc-msg-user { align-items: flex-end; }
.gc-bubble-body { font-size: 14px; line-height: 1.5; border-radius: 8px; padding: 8px 12px; max-width: 100%; }
.gc-msg-user > .gc-bubble-body { background: #37474f; color: #eeeeee; max-width: min(100%, 900px); }
.gc-msg-assistant > .gc-bubble-body { background: #212121; color: #e0e0e0; width: 100%; }
.gc-icon-btn { background: none; border: none; color: #9e9e9e; cursor: pointer; font-size: 18px; padding: 4px;
               border-radius: 50%; line-height: 1; font-family: "Material Icons"; font-feature-settings: "liga";
               letter-spacing: normal; text-transform: none; white-space: nowrap; }
.gc-icon-btn:hover { background: rgba(255,255,255,.08); color: #e0e0e0; }
.gc-icon-btn.gc-positive { color: var(--q-positive); }
.gc-icon-btn.gc-negative { color: var(--q-negative); }
/* Icons drawn by CSS: an icon element of its own would cost the server memory on every open page. */
.gc-email::before, .gc-locked::before { font-family: "Material Icons"; vertical-align: middle; margin-right: 4px; }
.gc-email::before { content: "account_circle"; font-size: 20px; }
.gc-locked::before { content: "lock"; font-size: 16px; }
.gc-drawer::before { content: "This chat"; font-size: 1rem; font-weight: 500; line-height: 1.75rem; }
.gc-described .q-field__messages { white-space: pre-line; line-height: 1.45; }
.gc-welcome { background: #1b1f24; border: 1px solid #333; border-radius: 10px; padding: 16px 20px; width: 100%;
              color: #cfd8dc; font-size: 14px; line-height: 1.5; }
.gc-welcome-title { font-size: 1.25rem; font-weight: 500; margin: 0 0 .5em 0; line-height: 1.4; color: #eceff1; }
.gc-welcome p { margin: 0 0 .6em 0; }
.gc-welcome-notice { border-left: 3px solid var(--q-warning); padding-left: .7em; color: #ffe0b2; }
.gc-examples { display: flex; flex-wrap: wrap; gap: 8px; }
.gc-example { background: #263238; color: #e0e0e0; border: 1px solid #455a64; border-radius: 16px; padding: 4px 12px;
              font-size: 13px; cursor: pointer; font-family: inherit; }
.gc-example:hover { background: #37474f; }
.gc-jump { position: fixed; bottom: calc(40vh / 3 + 90px); right: 24px; display: none; z-index: 10; width: 42px;
           height: 42px; border-radius: 50%; border: none; background: var(--q-primary); color: #fff;
           align-items: center; justify-content: center; cursor: pointer; box-shadow: 0 2px 6px rgba(0,0,0,.5); }
"""

# Utility classes that turns, tool cards, widgets and toasts use (plotly's markup too: cursor-*,
# svg-container; `hidden` is NiceGUI's set_visibility(False), `block` a Quasar button's label, `items-stretch`
# a toast's) but the page at load does not. UnoCSS writes the CSS for a class the first time it sees one, and
# a new style sheet restyles the whole page, in the middle of a reply; so these are written with the page (a
# browser test checks that a conversation with tools, widgets and a failed reply writes no CSS). UnoCSS reads
# its config when its deferred script starts, after the page's inline scripts.
LATER_CLASSES = [
    "hidden", "block", "items-stretch", "gap-0", "whitespace-pre-wrap", "break-words", "break-all", "font-mono",
    "text-left", "justify-end", "h-80", "max-w-2xl", "w-96", "max-w-full", "svg-container",
    *(f"cursor-{kind}" for kind in ("crosshair", "n-resize", "e-resize", "s-resize", "w-resize", "ne-resize",
                                     "nw-resize", "se-resize", "sw-resize", "ew-resize", "ns-resize")),
]

# NiceGUI hands UnoCSS every class name the first time it appears on the page, Quasar's and ours included;
# each name UnoCSS has not seen makes it write all its style sheets again, unchanged, and that restyles the
# whole page (at a fresh tab's first message, when a field takes focus, when a reply's footer comes). So
# UnoCSS is only given names that are utilities it has not written yet.
UNOCSS_JS = """<script>
if (window.__unocss) {
  window.__unocss.safelist = """ + json.dumps(LATER_CLASSES) + """;
  window.__unocss.runtime = {...window.__unocss.runtime, ready: runtime => {
    if (!runtime.uno || !runtime.uno.parseToken) return false;  // another UnoCSS: left as it is
    const extract = runtime.extract, seen = new Set(window.__unocss.safelist);
    runtime.extract = async classes => {
      const fresh = [];
      for (const name of classes.split(/\\s+/)) {
        if (!name || seen.has(name)) continue;
        seen.add(name);
        if (await runtime.uno.parseToken(name)) fresh.push(name);
      }
      if (fresh.length) await extract(fresh.join(" "));
    };
    return false;  // as NiceGUI has it: UnoCSS's own observer stays off, NiceGUI's feeds it
  }};
}
</script>"""

PAGE_JS = UNOCSS_JS + """
<button type="button" class="gc-jump" data-testid="jump-latest" title="Jump to latest" aria-label="Jump to latest"
        onclick="window.gcJumpToLatest()"><i class="material-icons">south</i></button>
<script>
(() => {
  // Changes to streaming replies ("gc_text", see stream_text.js) are taken from the moment the socket
  // exists: the first may come before the component that shows them has loaded; those wait for it here.
  window.gcTextEarly = new Map();
  const deliver = message => {
    const view = getElement(message.i);
    if (view && view.patch) return view.patch(message);
    if (!window.gcTextEarly.has(message.i)) window.gcTextEarly.set(message.i, []);
    window.gcTextEarly.get(message.i).push(message);
  };
  const listen = () => {
    if (!window.socket) return setTimeout(listen, 5);  // NiceGUI makes it once the page has mounted
    window.socket.on('gc_text', message => {
      // Keep NiceGUI's message count: a reconnect asks for the messages after it; replays are skipped.
      if (message._id !== undefined) {
        if (message._id < window.nextMessageId) return;
        window.nextMessageId = message._id + 1;
      }
      deliver(message);
    });
  };
  listen();
  setInterval(() => {  // the "thinking" dots step (page CSS); hidden ones (text has come) are left alone
    for (const dots of document.getElementsByClassName('gc-thinking')) {
      if (dots.checkVisibility && !dots.checkVisibility()) continue;  // (older Safari has no checkVisibility)
      dots.dataset.step = dots.dataset.step % 3 + 1 || 1;
    }
  }, 400);
  // The chat box's text, taken out of it (the box is emptied), to go with a send event; null when the
  // button shows Stop or the box is empty.
  window.gcTakeInput = (inputId, buttonId) => {
    const button = buttonId === null ? null : document.getElementById('c' + buttonId);
    if (button && button.dataset.testid === 'stop-button') return null;
    const box = getElement(inputId);
    const text = box ? box.inputValue : null;
    if (!text || !text.trim()) return null;
    box.inputValue = '';
    return text;
  };
  let follow = true;
  const atBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  const jump = () => document.querySelector('[data-testid="jump-latest"]');
  const showJump = () => { const b = jump(); if (b) b.style.display = follow ? 'none' : 'inline-flex'; };
  window.gcJumpToLatest = () => {
    follow = true; window.scrollTo({top: document.documentElement.scrollHeight}); showJump();
  };
  window.addEventListener('scroll', () => { follow = atBottom(); showJump(); }, {passive: true});
  const addCopyButtons = () => {
    document.querySelectorAll('.gc-md pre:not([data-gc-copy])').forEach(pre => {
      if (pre.closest('.gc-tail')) return;  // still streaming: replaced at the next update
      pre.setAttribute('data-gc-copy', '1');
      const button = document.createElement('button');
      button.type = 'button'; button.className = 'gc-copy'; button.textContent = 'Copy';
      button.addEventListener('click', () => {
        const code = pre.querySelector('code') || pre;
        navigator.clipboard.writeText(code.innerText).then(() => { button.textContent = 'Copied'; });
        setTimeout(() => { button.textContent = 'Copy'; }, 1500);
      });
      pre.appendChild(button);
    });
  };
  // Once per frame at most, however many changes came in it; scroll only when the page grew.
  let queued = false, height = 0;
  const settle = () => {
    queued = false;
    addCopyButtons();
    const now = document.documentElement.scrollHeight;
    if (now === height) return;
    height = now;
    if (follow) window.scrollTo({top: now}); else showJump();
  };
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(settle); }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener('keydown', event => {
    if (event.key !== 'Escape') return;
    const stop = document.querySelector('[data-testid="stop-button"]');
    if (stop && stop.offsetParent !== null) stop.click();
  });
})();
</script>
"""


@cache
def code_css() -> str:
    """Pygments colours for highlighted code blocks, dark."""
    return HtmlFormatter(style="monokai").get_style_defs(".codehilite") + "\n.codehilite { background: #1e1e1e; }"


def add_page_assets() -> None:
    """The page's CSS and script, once for all pages: one copy in the process, not one per open tab (added
    per page, they were ~27 KB of every tab's memory)."""
    if PAGE_JS in Client.shared_body_html:  # already there (the app was set up twice in one process)
        return
    ui.add_css(PAGE_CSS + code_css(), shared=True)
    ui.add_body_html(PAGE_JS, shared=True)
    ui.add_head_html(preload_html(), shared=True)
