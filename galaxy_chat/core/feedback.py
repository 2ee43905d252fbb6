"""Feedback from people: a thumb on one reply, or a 1-5 rating of the app, one JSON line each in
LOG_DIR/feedback.jsonl.

Lines are written in a worker thread (the event loop never waits on the disk), each whole with one
os.write on an O_APPEND file of mode 0600, so concurrent records (even from other processes) never
interleave and a crash loses at most the line being written.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Literal

from galaxy_chat.core.session_log import iso_utc

FeedbackKind = Literal["message", "general"]
MAX_TEXT = 5_000  # a comment, not a document: bounds the file and the line size
MESSAGE_RATINGS = ("up", "down")
GENERAL_RATINGS = range(1, 6)
FILE_NAME = "feedback.jsonl"


def validate(kind: str, rating: Any, message_id: str | None) -> None:
    """Raise ValueError with a sentence a developer can act on when the feedback does not make sense."""
    if kind == "message":
        if rating not in MESSAGE_RATINGS or not isinstance(rating, str):
            raise ValueError(f"message feedback needs rating 'up' or 'down', got {rating!r}")
        if not message_id:
            raise ValueError("message feedback needs the message_id of the reply it is about")
    elif kind == "general":
        # bool is an int in Python; True must not pass as a rating of 1.
        if isinstance(rating, bool) or not isinstance(rating, int) or rating not in GENERAL_RATINGS:
            raise ValueError(f"general feedback needs an integer rating from 1 to 5, got {rating!r}")
    else:
        raise ValueError(f"feedback kind must be 'message' or 'general', got {kind!r}")


class FeedbackLog:
    """`await FeedbackLog(settings.log_dir).record(...)` appends one line; safe to call concurrently."""

    def __init__(self, log_dir: Path | str) -> None:
        self.path = Path(log_dir) / FILE_NAME
        # Regular-file appends are whole on Linux anyway; the lock also covers the short-write loop below.
        self._lock = threading.Lock()

    async def record(self, kind: FeedbackKind, user: str, session_id: str, message_id: str | None,
                     model: str | None, rating: int | str, text: str) -> None:
        validate(kind, rating, message_id)
        line = {
            "type": kind, "user": user, "session": session_id, "message_id": message_id, "model": model,
            "time": iso_utc(time.time()), "rating": rating, "text": (text or "")[:MAX_TEXT],
        }
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        await asyncio.to_thread(self._append, data)

    async def recent(self, limit: int = 500) -> list[dict[str, Any]]:
        """The last `limit` records, oldest first (the admin page): only the file's tail is read."""
        return await asyncio.to_thread(self._tail, limit)

    def _tail(self, limit: int) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - limit * (MAX_TEXT + 400)))  # a line is at most a comment and its fields
                lines = file.read().splitlines()[-limit:]
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:  # the first line of the tail may be cut: skip it
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                written = os.write(fd, data)
                while written < len(data):  # only after a signal or a full disk; keeps the line whole if possible
                    written += os.write(fd, data[written:])
            finally:
                os.close(fd)  # os.write has no user-space buffer: the line is in the file when this returns
