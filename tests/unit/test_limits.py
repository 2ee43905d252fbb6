"""Server-side limits and idle eviction, at the unit level (the page flows are in test_sessions.py)."""

from __future__ import annotations

import pytest

from access.policy import AllowAll
from galaxy_chat.core.limits import DRAINING, RateLimiter, SendRefused, clean_message
from galaxy_chat.services import Services
from galaxy_chat.settings import load_settings
from galaxy_chat.vocabulary.users import User


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_window_slides_and_says_when_to_retry() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    for _ in range(3):
        limiter.check("a@example.com")
        clock.now += 10
    with pytest.raises(SendRefused) as refused:
        limiter.check("a@example.com")
    assert str(refused.value).endswith("You can send again in 30 s.")
    limiter.check("b@example.com")  # per user
    clock.now += 31
    limiter.check("a@example.com")  # the first message left the window


def test_a_draining_server_refuses_every_message_without_counting_it() -> None:
    limiter = RateLimiter(1)
    limiter.draining = True
    for _ in range(3):
        with pytest.raises(SendRefused) as refused:
            limiter.check("a@example.com")
        assert str(refused.value) == DRAINING and refused.value.kind == "draining"
    limiter.draining = False
    limiter.check("a@example.com")  # the refused ones used none of the minute's one message


def test_clean_message_strips_control_characters_and_caps_size() -> None:
    assert clean_message("  hi\x00 there\x1b[31m\n ", 100) == "hi there[31m"
    with pytest.raises(SendRefused, match="empty"):
        clean_message("\x00 \t", 100)
    with pytest.raises(SendRefused, match="too long: 101 characters, the limit is 100"):
        clean_message("x" * 101, 100)


async def test_idle_sessions_are_evicted_but_attached_or_busy_ones_stay(tmp_path) -> None:
    settings = load_settings(env_file=None, log_dir=tmp_path / "logs", data_dir=tmp_path / "data",
                             llm_config_file=tmp_path / "none.yml", session_idle_minutes=1)
    services = Services.build(settings, policy=AllowAll())
    idle = services.sessions.active_for(User("idle@example.com"))
    idle.send("/help")
    await idle.wait()
    watched = services.sessions.active_for(User("watched@example.com"))
    watched.attach(lambda turn, event: None, lambda: None)
    later = idle.last_active + 61
    assert services.sessions.evict_idle(now=later) == [idle.id]
    assert [s.id for s in services.sessions.sessions()] == [watched.id]
    assert services.sessions.active_for(User("idle@example.com")).id != idle.id  # a fresh one next time
    assert services.logs.flush()
    assert (tmp_path / "logs" / f"{idle.id}.jsonl").exists()  # its log stays
    await services.aclose()
