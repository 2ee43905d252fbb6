"""Snippets cut in Python for SQLite: the stretch of a text around the searched words, the words marked.

FTS5's snippet() evaluates the query again for every row it cuts, and a prefix term (the last word, as the
person types) means merging the postings of every word with that prefix each time: 20-130 ms for 20 hits on
a million messages. The hits' texts are at hand, so marking the words here costs well under a millisecond.
A word matches a token that starts with it (plural and -ing forms of the word) or that it starts with, less
at most two letters (the stem of the word typed); the last word, typed as a prefix, matches any token it
begins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TOKEN = re.compile(r"\w+")
START, STOP = "\u0002", "\u0003"


def _matches(token: str, words: Sequence[str], prefix: bool) -> bool:
    token = token.lower()
    for index, word in enumerate(words):
        if token.startswith(word) and ((prefix and index == len(words) - 1) or len(token) - len(word) <= 3):
            return True
        if len(word) >= 4 and word.startswith(token) and len(word) - len(token) <= 2:
            return True
    return False


def cut(text: str, words: Sequence[str], prefix: bool, tokens: int = 16, whole: bool = False) -> str:
    """`text` (or its best window of `tokens` words) with each matching word between START and STOP."""
    spans = [(m.start(), m.end(), _matches(m.group(), words, prefix)) for m in TOKEN.finditer(text)]
    if not spans:
        return text[:200]
    first, last = 0, len(spans)
    if not whole and len(spans) > tokens:
        hits = [i for i, span in enumerate(spans) if span[2]] or [0]
        best = max(hits, key=lambda i: sum(1 for j in hits if i <= j < i + tokens - 3))
        first = max(0, min(best - 3, len(spans) - tokens))
        last = first + tokens
    begin = 0 if first == 0 else spans[first][0]
    end = len(text) if last == len(spans) else spans[last - 1][1]
    out, at = ["…" if begin else ""], begin
    for start, stop, hit in spans[first:last]:
        if hit:
            out += [text[at:start], START, text[start:stop], STOP]
            at = stop
    out += [text[at:end], "…" if end < len(text) else ""]
    return " ".join("".join(out).split())
