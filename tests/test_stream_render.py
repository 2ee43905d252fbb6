"""The pieces of streaming that run on the server: the open tail's HTML and the change messages' offsets."""

from __future__ import annotations

import random

from galaxy_chat.ui.markdown_render import plain_paragraph, render_markdown_uncached, render_tail
from galaxy_chat.ui.streaming_markdown import TRAILING_CLOSERS, common_prefix, js_length


def test_the_plain_paragraph_shortcut_renders_exactly_what_markdown_renders() -> None:
    rng = random.Random(7)
    shortcuts = 0
    for alphabet in ("ab 1.\n-+=>:()'\"!?,$%@/", "a b\n\n  .1)", "é😀 \n-1.)*_`[]<&#"):
        for _ in range(3000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
            fast = plain_paragraph(text)
            if fast is not None:
                shortcuts += 1
                assert fast == render_markdown_uncached(text), repr(text)
    assert shortcuts > 1000
    # Ordinary prose takes the shortcut, or it would save nothing.
    assert plain_paragraph("Sure! Here's what I found (2 results), e-mail me at a@b.c: ok?\nNext line ") is not None


def test_markdown_in_the_tail_is_still_rendered_and_raw_html_stays_text() -> None:
    assert render_tail("Some **bold** and <b>html</b>") == (
        "<p>Some <strong>bold</strong> and &lt;b&gt;html&lt;/b&gt;</p>")
    assert plain_paragraph("- a list item") is None


def test_an_open_code_block_is_shown_escaped_until_it_closes() -> None:
    tail = render_tail("Look:\n\n```python\nif a < b:\n    print('<script>')\n")
    assert tail.startswith("<p>Look:</p>")
    assert "<code>if a &lt; b:\n    print(&#x27;&lt;script&gt;&#x27;)\n</code>" in tail
    assert "<script>" not in tail
    closed = render_markdown_uncached("```python\nif a < b:\n    pass\n```\n")
    assert '<span class="k">' in closed  # highlighted once closed


def test_change_offsets_count_like_javascript() -> None:
    assert js_length("abc") == 3
    assert js_length("a😀b") == 4  # an emoji outside the BMP is two UTF-16 code units
    assert js_length("é") == 1
    assert common_prefix("<p>one two", "<p>one two three") == len("<p>one two")
    assert common_prefix("<p>abc", "<p>abd") == len("<p>ab")
    assert common_prefix("", "x") == 0
    assert TRAILING_CLOSERS.sub("", "<ul><li>a</li></ul>\n") == "<ul><li>a"
