"""Code fences in Markdown text: where an unclosed one begins, and closing it so the rest is not swallowed.

Used for a reply still streaming (the page) and for a reply cut short (the Markdown export).
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def closes(fence: str, opened: str) -> bool:
    """Whether `fence` closes the code block `opened` began (same character, at least as long)."""
    return fence[0] == opened[0] and len(fence) >= len(opened)


def open_fence_start(text: str) -> tuple[int, str] | None:
    """Where the code block that is still open begins, and its fence; None when every fence is closed."""
    open_fence: tuple[int, str] | None = None
    for match in FENCE.finditer(text):
        fence = match.group(1)
        if open_fence is None:
            open_fence = (match.start(), fence)
        elif closes(fence, open_fence[1]):
            open_fence = None
    return open_fence


def close_open_fence(text: str) -> str:
    """Mid-stream a code block may not be closed yet: close it so the layout does not break."""
    found = open_fence_start(text)
    if found is None:
        return text
    return text + ("" if text.endswith("\n") else "\n") + found[1]
