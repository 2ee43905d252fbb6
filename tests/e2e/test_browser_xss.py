"""Hostile model replies execute nothing in real Chromium: a trap on window stays unset."""

from __future__ import annotations

from pathlib import Path

from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text
from tests.browser_helpers import chromium_page, needs_chromium, scripted_model, send_and_wait

pytestmark = needs_chromium

TRAP = "window.__xss=1"
# Every element rendered from model text: a dangerous tag, an event handler, a style, or a non-web URL.
FIND_DANGER = """nodes => {
  const bad = [];
  const tags = ['SCRIPT', 'IMG', 'SVG', 'IFRAME', 'STYLE', 'OBJECT', 'EMBED', 'FORM', 'INPUT', 'VIDEO', 'MATH',
                'DETAILS', 'BODY', 'LINK', 'META'];
  for (const root of nodes) for (const el of root.querySelectorAll('*')) {
    if (tags.includes(el.tagName)) bad.push(el.tagName);
    for (const a of el.attributes) {
      const url = ['href', 'src', 'action', 'data', 'formaction'].includes(a.name);
      if (a.name.startsWith('on') || a.name === 'style' || (url && !/^(https?:|mailto:)/i.test(a.value)))
        bad.push(`${el.tagName}[${a.name}=${a.value}]`);
    }
  }
  return bad;
}"""
HOSTILE_REPLIES = [
    f"<script>{TRAP}</script>",
    f'<img src=x onerror="{TRAP}">',
    f'<svg onload="{TRAP}"><circle r=1></svg>',
    f"[click me](javascript:{TRAP})",
    f"[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==) and <a href='javascript:{TRAP}'>a</a>",
    "<style>body { background: rgb(255, 0, 0) !important; }</style>",
    '<div style="position:fixed;inset:0;background:rgb(255,0,0)">overlay</div>',
    f'<iframe src="javascript:{TRAP}"></iframe>',
    f'<details open ontoggle="{TRAP}"><summary>x</summary></details>',
    f'<body onload="{TRAP}">',
    f'<a href="#" onclick="{TRAP}">link</a>',
    f"![img](x\" onerror=\"{TRAP})",
    f"[a](JaVaScRiPt:{TRAP})",
    f"[a](&#106;avascript:{TRAP})",
    f"&lt;script&gt;{TRAP}&lt;/script&gt;",
    f'<math><mtext><table><mglyph><style><img src=x onerror="{TRAP}">',
    f"```html\n<script>{TRAP}</script>\n```",
    f'<input autofocus onfocus="{TRAP}">',
    f'<object data="javascript:{TRAP}"></object>',
    f"<embed src=\"data:text/html,<script>{TRAP}</script>\">",
    f'<form action="javascript:{TRAP}"><button>go</button></form>',
    f"[x]( javascript:{TRAP} )",
    f'<video><source onerror="{TRAP}"></video>',
    f"</script><script>{TRAP}</script>",
    f"<<script>script>{TRAP}<</script>/script>",
    f'<a href="vbscript:{TRAP}">vb</a>',
    f'<svg><animate onbegin="{TRAP}" attributeName=x dur=1s>',
    f"[ref][1]\n\n[1]: javascript:{TRAP}",
]


def test_hostile_replies_execute_nothing(app_process, tmp_path: Path) -> None:
    with scripted_model(tmp_path) as (llm, env):
        llm.script(*[Reply(200, openai_text(reply)) for reply in HOSTILE_REPLIES])
        server = app_process("--test-mode", MESSAGES_PER_MINUTE="100", **env)
        with chromium_page(server.url) as (page, _):
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            for number, _reply in enumerate(HOSTILE_REPLIES):
                send_and_wait(page, f"reply {number}")
            page.get_by_test_id("message-assistant").nth(len(HOSTILE_REPLIES) - 1).wait_for()
            # Click every link the replies produced, and focus every input, as a curious person might.
            for link in page.locator(".gc-md a").all():
                link.click(modifiers=["Alt"], no_wait_after=True, timeout=2_000)
            page.wait_for_timeout(500)
            assert page.evaluate("window.__xss") is None
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
            assert page.locator(".gc-md").evaluate_all(FIND_DANGER) == []
