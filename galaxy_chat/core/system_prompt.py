"""Where the system prompt comes from: SYSTEM_PROMPT_OVERRIDE when set, else the system_prompt.md file."""

from __future__ import annotations

import logging
from pathlib import Path

from galaxy_chat.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("system_prompt.md")  # relative to the working directory (the repository root)
FALLBACK = "You are a helpful assistant."


def load_system_prompt(settings: Settings, path: Path = DEFAULT_PATH) -> str:
    """The prompt for a new conversation. Read per conversation so an edited file applies without a restart."""
    if settings.system_prompt_override.strip():
        return settings.system_prompt_override.strip()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        # A missing file must not stop chatting; the server log says why the fallback is used.
        log.warning("system prompt file %s unreadable (%s); using a generic prompt", path, exc)
        return FALLBACK
    return text or FALLBACK
