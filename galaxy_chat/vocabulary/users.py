"""Who is using the app: the signed-in user and how an email is normalised."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Deliberately strict: a proxy header is machine-made, so anything odd is more likely an attack than a typo.
_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")
MAX_EMAIL_LENGTH = 254


def normalise_email(raw: str) -> str | None:
    """Trimmed, lower-cased email, or None when it is not a plausible address."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        return None
    return email


@dataclass(frozen=True)
class User:
    """The person behind a request, as vouched for by the reverse proxy (or test mode)."""

    email: str
    test_mode: bool = False
