"""Server log lines as text (the default) or one JSON object per line (LOG_FORMAT=json), and the session id
a chat session's task carries, so every line written while it answers names the session."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
current_session: contextvars.ContextVar[str] = contextvars.ContextVar("galaxy_chat_session", default="")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, session (when known) and exc_info as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if session := current_session.get():
            line["session"] = session
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    """The root logger's one handler, on stderr, in the chosen format (replacing any earlier set-up)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def uvicorn_options(log_format: str) -> dict[str, object]:
    """For ui.run: with JSON, uvicorn configures no handlers of its own, so its lines reach ours as JSON."""
    return {"log_config": None} if log_format == "json" else {}
