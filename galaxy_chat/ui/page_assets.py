"""The page's own CSS and scripts (page.css, unocss_filter.js, page.js beside this file), added once for all pages.

Read from their files at start-up and shared by every page: one copy in the process, not one per open tab
(added per page, they were ~27 KB of every tab's memory).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from nicegui import Client, ui
from pygments.formatters import HtmlFormatter

HERE = Path(__file__).parent


@cache
def asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def code_css() -> str:
    """Pygments colours for highlighted code blocks, dark."""
    return HtmlFormatter(style="monokai").get_style_defs(".codehilite") + "\n.codehilite { background: #1e1e1e; }"


def page_scripts() -> str:
    # UnoCSS's filter first: UnoCSS reads its config when its deferred script starts, after inline scripts.
    return f"<script>\n{asset('unocss_filter.js')}</script>\n<script>\n{asset('page.js')}</script>\n"


def add_page_assets() -> None:
    scripts = page_scripts()
    if scripts in Client.shared_body_html:  # already there (the app was set up twice in one process)
        return
    ui.add_css(asset("page.css") + code_css(), shared=True)
    ui.add_body_html(scripts, shared=True)
