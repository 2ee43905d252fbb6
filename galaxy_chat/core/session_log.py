"""Session logs: every event of a chat as one JSON line in LOG_DIR/<session_id>.jsonl.

One writer thread serves all sessions, so the event loop only puts records on a queue. Each line is
encoded, redacted and written whole with one os.write on an O_APPEND file (mode 0600): a kill -9 loses
at most the line being written. Streamed text is not logged per token; it is gathered into `text` lines
flushed every TEXT_FLUSH_S and before any other event, so a crash loses at most that much of a reply.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.event_json import encode
from galaxy_chat.vocabulary.events import Event, TextDelta

log = logging.getLogger(__name__)

REDACTED = "[REDACTED]"
TEXT_FLUSH_S = 0.25
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")  # what secrets.token_urlsafe produces; no path tricks


def secrets_of(settings: Settings, models: Iterable[ModelConfig] = ()) -> list[str]:
    """Every secret value the logs must never show: the settings' secrets (the history database's URL and its
    password too), and each model's API key."""
    database_url = settings.database_url.get_secret_value()
    values = [settings.llm_api_key.get_secret_value(), settings.trusted_proxy_secret.get_secret_value(),
              database_url, unquote(urlsplit(database_url).password or ""),
              settings.metrics_token.get_secret_value()]
    values += [model.api_key.get_secret_value() for model in models]
    return [value for value in values if value]


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SessionLogs:
    """The factory: `logs.open(session_id)` gives a session's log. Owns the one writer thread."""

    def __init__(self, log_dir: Path, secrets: Iterable[str] = ()) -> None:
        self.log_dir = Path(log_dir)
        self._secrets: tuple[str, ...] = ()
        self._forms: tuple[str, ...] = ()
        self.add_secrets(*secrets)
        self._queue: queue.SimpleQueue[tuple[Path, dict[str, Any]] | threading.Event | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="session-log-writer", daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, settings: Settings, models: Iterable[ModelConfig] = ()) -> SessionLogs:
        return cls(settings.log_dir, secrets_of(settings, models))

    def add_secrets(self, *values: str) -> None:
        """More values to redact (e.g. models loaded later). Replaced as a whole, so the thread sees either."""
        self._secrets = tuple(sorted({*self._secrets, *(v for v in values if v)}, key=len, reverse=True))
        # A secret holding quotes, backslashes or non-ASCII appears escaped inside a JSON line.
        forms = {form for s in self._secrets for form in (s, json.dumps(s)[1:-1])}
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    @property
    def longest_secret(self) -> int:
        return max((len(s) for s in self._secrets), default=0)

    def redact(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def open(self, session_id: str) -> SessionLog:
        if not SESSION_ID.match(session_id):
            raise ValueError("a session id is 8-128 characters of A-Z, a-z, 0-9, _ and -")
        return SessionLog(self, session_id, self.log_dir / f"{session_id}.jsonl")

    def submit(self, path: Path, record: dict[str, Any]) -> None:
        """Queue one line; never blocks. The timestamp is taken now, not when the thread writes."""
        if not self._closed:
            self._queue.put((path, {"ts": time.time(), **record}))

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until every line queued so far is written (tests, shutdown). Not for the event loop."""
        if self._closed:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()
                continue
            path, record = item
            try:
                self._write(path, record)
            except Exception:  # a full disk must not kill the thread; the server log says why
                log.exception("session log %s: could not write a line", path.name)

    def _write(self, path: Path, record: dict[str, Any]) -> None:
        record["ts"] = iso_utc(record["ts"])
        line = self.redact(json.dumps(record, default=repr)) + "\n"
        data = line.encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            written = os.write(fd, data)
            while written < len(data):  # regular files write whole; this loop is only a safety net
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)


class SessionLog:
    """One session's log. Methods are cheap and non-blocking; call them from the event loop."""

    def __init__(self, logs: SessionLogs, session_id: str, path: Path) -> None:
        self.session_id = session_id
        self.path = path
        self._logs = logs
        self._pending: list[str] = []
        self._last_flush = time.monotonic()

    def write(self, type_: str, **fields: Any) -> None:
        """One line of `type_` (ends any pending text first, so lines stay in order)."""
        self.flush_text()
        self._logs.submit(self.path, {"type": type_, **fields})

    def event(self, event: Event, **extra: Any) -> None:
        if isinstance(event, TextDelta):
            self.text(event.text)
            return
        self.flush_text()
        self._logs.submit(self.path, {**encode(event), **extra})

    def text(self, piece: str) -> None:
        """Gather streamed text; a `text` line goes out at most every TEXT_FLUSH_S."""
        self._pending.append(piece)
        if time.monotonic() - self._last_flush >= TEXT_FLUSH_S:
            self.flush_text(final=False)

    def flush_text(self, final: bool = True) -> None:
        """Write the gathered text. Mid-stream, the tail that could be the start of a secret is held back,
        so no secret is ever split over two lines where redaction could not see it whole."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        text = self._logs.redact("".join(self._pending))
        hold = 0 if final else max(self._logs.longest_secret - 1, 0)
        cut = max(len(text) - hold, 0)
        self._pending = [text[cut:]] if hold and text[cut:] else []
        if cut > 0:
            self._logs.submit(self.path, {"type": "text", "text": text[:cut]})
