"""The permission system's contract: which tools, data sources and models a user gets.

Routes, UI and engine ask a `Policy`; they never read permission files themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

from galaxy_chat.vocabulary.users import User

Kind = Literal["tool", "data_source", "model", "mcp_server", "upload"]  # an upload's name: its file kind
ADMINS_GROUP = "admins"  # its members see /admin and may read /metrics


class Policy(Protocol):
    def tools_for(self, user: User, available: Iterable[str]) -> list[str]: ...

    def data_sources_for(self, user: User, available: Iterable[str]) -> list[str]: ...

    def models_for(self, user: User, available: Iterable[str]) -> list[str]: ...

    def can_use(self, user: User, kind: Kind, name: str) -> bool: ...


class AllowAll:
    """Everyone may use everything: the policy when no permissions are configured."""

    def tools_for(self, user: User, available: Iterable[str]) -> list[str]:
        return list(available)

    def data_sources_for(self, user: User, available: Iterable[str]) -> list[str]:
        return list(available)

    def models_for(self, user: User, available: Iterable[str]) -> list[str]:
        return list(available)

    def can_use(self, user: User, kind: Kind, name: str) -> bool:
        return True

    def is_admin(self, user: User) -> bool:
        """Without a permissions file only the test-mode user is an admin (so the quick start shows /admin)."""
        return user.test_mode


def is_admin(policy: Policy, user: User) -> bool:
    """Whether `user` may see the admin page and the metrics. A policy without `is_admin` has no admins."""
    check = getattr(policy, "is_admin", None)
    return bool(check(user)) if callable(check) else False
