"""Model text → safe HTML: python-markdown with raw HTML switched off, then an nh3 allow-list.

Two layers because model output is untrusted: raw HTML in the markdown is shown as text, and whatever
markdown itself produces still passes an allow-list (no script, no event handlers, no style, no images —
a remote image URL could carry conversation data out — and only http/https/mailto links).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import markdown
import nh3

from galaxy_chat.core.markdown_fences import FENCE, close_open_fence, closes, open_fence_start

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "div", "sup", "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "div": {"class"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}
LIST_START = re.compile(r"^(?:[-*+]\s|\d+[.)]\s)")
LIST_MARKS = "-*+"
LINK_DEFINITION = re.compile(r"^\[[^\]]*\]:")
# Text that markdown would only wrap in <p>: no character with an inline meaning, no line that could start
# a block (list, quote, heading underline, indented code), no hard line break, one paragraph.
PLAIN = re.compile(r"[^\\`*_\[\]<>&#|~\t\r]*")
BLANK_LINE = re.compile(r"\n *\n")
TRAILING_BLANK_LINES = re.compile(r"(?:\n *)+$")
BLOCK_START = re.compile(r"^(?: {4}|\t| {0,3}(?:[-+*=>]|\d+[.)]))", re.MULTILINE)


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(
        extensions=["fenced_code", "tables", "sane_lists", "codehilite"],
        extension_configs={"codehilite": {"guess_lang": False, "css_class": "codehilite"}},
    )
    # No raw HTML at all: "<b>" from the model is shown as text, not interpreted.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


_MD = _markdown()


def sanitize(html: str) -> str:
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer", set_tag_attribute_values={"a": {"target": "_blank"}},
        clean_content_tags={"script", "style"}, strip_comments=True,
    )


def render_markdown_uncached(text: str) -> str:
    """For the growing tail of a stream: caching every intermediate would only fill memory."""
    _MD.reset()
    return sanitize(_MD.convert(close_open_fence(text)))


@lru_cache(maxsize=2048)  # finished blocks and history are rendered again on reload or re-attach
def render_markdown(text: str) -> str:
    return render_markdown_uncached(text)


def plain_paragraph(text: str) -> str | None:
    """The HTML markdown makes of `text` when that is one plain paragraph (None otherwise), at a fraction of
    the cost: most of a streaming reply's open tail is such a paragraph, rendered again at every update."""
    body = TRAILING_BLANK_LINES.sub("", text)
    if not body or body[0].isspace() or BLANK_LINE.search(body) or "  \n" in body:
        return None
    if not PLAIN.fullmatch(body) or BLOCK_START.search(body):
        return None
    return f"<p>{body}</p>"


def render_tail(text: str) -> str:
    """The open end of a streaming reply. An open code block is shown as plain escaped text: highlighting
    it again at every update would cost time growing with its length; it is highlighted once, when closed."""
    found = open_fence_start(text)
    if found is None:
        plain = plain_paragraph(text)
        return plain if plain is not None else render_markdown_uncached(text)
    start = found[0]
    newline = text.find("\n", start)
    body = text[newline + 1:] if newline >= 0 else ""
    before = render_markdown_uncached(text[:start]) if text[:start].strip() else ""
    return f'{before}<div class="codehilite"><pre><code>{html.escape(body)}</code></pre></div>'


def finished_prefix_length(text: str) -> int:
    """Length of the leading part made of complete blocks (safe to render once and never again).

    A block ends at a blank line outside a code fence, once what follows cannot continue it. Only a list
    item, an indented line or a quote (python-markdown merges quotes across blank lines) can, so the first
    character of the next line mostly settles it; "-", "*", "+" and digits ("1." or "1999") need the line.
    Splitting there renders exactly as rendering the whole text would, and the open tail is usually one
    plain paragraph again soon after a block ends (plain_paragraph).
    """
    boundary = 0
    in_fence: str | None = None
    position = 0
    lines = text.split("\n")
    last = len(lines) - 1  # the last line may still be growing
    for index, line in enumerate(lines[:-1]):
        position += len(line) + 1
        match = FENCE.match(line)
        if match:
            fence = match.group(1)
            if in_fence is None:
                in_fence = fence
            elif closes(fence, in_fence):
                in_fence = None
            continue
        if in_fence is None and line.strip() == "" and _starts_new_block(lines[index + 1], index + 1 < last):
            boundary = position
    return boundary


def _starts_new_block(line: str, complete: bool) -> bool:
    """Whether `line`, after a blank line, cannot continue the block before it (`complete`: whole line)."""
    if not line or line[0].isspace() or line[0] == ">":
        return False
    if line[0] in LIST_MARKS or line[0].isdigit():
        return complete and not LIST_START.match(line)
    if line[0] == "[":  # a link definition vanishes from the output, so a list before it carries on after it
        return complete and not LINK_DEFINITION.match(line)
    return True
