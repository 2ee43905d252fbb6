"""The pieces of streaming that run on the server: the open tail's HTML and the change messages' offsets."""

from __future__ import annotations

import random
import re

from galaxy_chat.ui.markdown_render import (
    finished_prefix_length,
    plain_paragraph,
    render_markdown_uncached,
    render_tail,
)
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


BLOCKS = ["Plain words here.", "Two\nlines", "- item a\n- item b", "- loose", "1. first", "2) second", "> quoted",
          "> more\n> quote", "```\ncode\n\nstill code\n```", "    indented", "  two-space", "# Heading",
          "1999 was a year.", "---", "* star", "+ plus", "*emph* start", "| a | b |\n|---|---|\n| 1 | 2 |",
          "~~~\nx\n~~~", "-dash word", "10. ten", "`tick` start", "Term\n====="]


def test_finished_blocks_rendered_apart_look_exactly_like_the_whole_reply() -> None:
    """Stream random documents in random pieces the way the page does: whatever finished_prefix_length calls
    finished is rendered once, on its own. Joined, that must be what the whole text renders to."""
    rng = random.Random(11)
    squeeze = re.compile(r">\s+<")
    splits = 0
    for _ in range(1500):
        doc = "".join(rng.choice(BLOCKS) + rng.choice(["\n\n", "\n", "\n\n\n"]) for _ in range(rng.randint(1, 6)))
        shown, upto, position = "", 0, 0
        while position < len(doc):
            position = min(len(doc), position + rng.randint(1, 6))
            done = finished_prefix_length(doc[upto:position])
            if done:
                shown += render_markdown_uncached(doc[upto:upto + done])
                upto += done
                splits += 1
        shown += render_markdown_uncached(doc[upto:]) if upto < len(doc) else ""
        assert squeeze.sub("><", shown.strip()) == squeeze.sub("><", render_markdown_uncached(doc).strip()), doc
    assert splits > 1000


def test_a_new_paragraph_finishes_the_one_before_at_its_first_character() -> None:
    # So the open tail is one plain paragraph again at once (the cheap path), not two paragraphs for a line.
    assert finished_prefix_length("First paragraph.\n\nS") == len("First paragraph.\n\n")
    assert plain_paragraph("S") is not None
    assert finished_prefix_length("- a list\n\n- ") == 0  # may continue the list
    assert finished_prefix_length("> a quote\n\nx\n\n> m") == len("> a quote\n\n")
    assert finished_prefix_length("1. one\n\n2") == 0  # "2." would continue it, "2024" would not
    # A link definition leaves no trace in the output, so the list goes on after it.
    assert finished_prefix_length("- a\n\n[l]: http://a.example\n\n- b\n") == 0
