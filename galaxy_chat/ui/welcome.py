"""The welcome in an empty chat: what the app does, examples to click that need no model, and the model's trouble.

One element, our own trusted HTML, deleted by the first message: an idle tab pays for one element and no
string of its own (the HTML is built once per variant and shared by every tab showing it).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache

from nicegui import ui
from nicegui.events import GenericEventArguments

from galaxy_chat.ui.marks import testid


@dataclass(frozen=True)
class Example:
    tool: str | None  # the tool it needs (None: always works)
    label: str
    text: str  # what is sent


EXAMPLES = (
    Example(None, "/help — every command you can use", "/help"),
    Example("sql_query", "/sql — monthly revenue as a chart",
            "/sql SELECT month, ROUND(SUM(revenue)) AS revenue FROM monthly_sales GROUP BY month ORDER BY month"),
    Example("python", "/python — a plot computed in the sandbox",
            "/python\nimport math\nimport plotly.graph_objects as go\n"
            "xs = [i / 10 for i in range(63)]\n"
            "fig = go.Figure(go.Scatter(x=xs, y=[math.sin(x) for x in xs], name='sin'))\n"
            "fig.update_layout(title='sin(x), drawn by Python')\nprint('plotted', len(xs), 'points')"),
    Example("user_lookup", "/user — look someone up", "/user alice"),
    Example("calculator", "/calc — exact arithmetic", "/calc 2**10 / (3 + 5)"),
)
ABOUT = ("Ask a question and the model answers, using the tools and data sources chosen in the drawer "
         "(they are fixed once you send the first message). Commands run a tool directly, with no model:")
CLICK_JS = "(e) => { const b = e.target.closest('[data-example]'); if (b) emit(Number(b.dataset.example)); }"


def examples_for(tools: list[str]) -> list[Example]:
    return [example for example in EXAMPLES if example.tool is None or example.tool in tools]


@lru_cache(maxsize=256)
def welcome_html(app_name: str, labels: tuple[str, ...], notice: str) -> str:
    """Cached: every tab with the same tools and notice shares one string."""
    buttons = "".join(
        f'<button type="button" class="gc-example" data-example="{n}" data-testid="welcome-example">'
        f"{html.escape(label)}</button>" for n, label in enumerate(labels))
    warning = f'<p class="gc-welcome-notice" data-testid="model-notice">{html.escape(notice)}</p>' if notice else ""
    return (f'<h2 class="gc-welcome-title">Welcome to {html.escape(app_name)}</h2>{warning}'
            f"<p>{html.escape(ABOUT)}</p><div class=\"gc-examples\">{buttons}</div>")


class Welcome:
    def __init__(self, app_name: str, tools: list[str], notice: str,
                 send: Callable[[str], Awaitable[object]]) -> None:
        self.app_name = app_name
        self.examples = examples_for(tools)
        self.notice = notice
        self._send = send
        self.element = testid(ui.html(self._html(), sanitize=False).classes("gc-welcome"), "welcome")
        self.element.on("click", self._clicked, js_handler=CLICK_JS)

    def _html(self) -> str:
        return welcome_html(self.app_name, tuple(example.label for example in self.examples), self.notice)

    async def _clicked(self, event: GenericEventArguments) -> None:
        index = event.args
        # The browser only says which button: the text sent is always one of ours.
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(self.examples):
            await self._send(self.examples[index].text)

    def show_notice(self, notice: str) -> None:
        if notice != self.notice and not self.element.is_deleted:
            self.notice = notice
            self.element.set_content(self._html())

    def remove(self) -> None:
        if not self.element.is_deleted:
            self.element.delete()
