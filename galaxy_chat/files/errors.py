"""Why an upload was refused, in words for the person who sent it."""

from __future__ import annotations


class FileRefused(Exception):
    """An upload that is not kept. `reason` is one sentence for the person (no paths, no internals)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
