"""Names: a display name cleaned for showing (never used as a path), and SQL identifiers made from it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MAX_NAME_CHARS = 120
MAX_IDENTIFIER_CHARS = 40
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")  # separators, controls and what Windows refuses
IDENTIFIER_CHARS = re.compile(r"[^a-z0-9_]+")
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def display_name(name: str, fallback: str = "file") -> str:
    """The last component of what the browser sent, without separators, controls or leading dots.
    `../../etc/passwd` becomes `passwd`: the name is only ever shown, files are stored under random ids."""
    text = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # also bidi overrides
    text = UNSAFE.sub("_", text).strip().lstrip(".").strip()
    if len(text) > MAX_NAME_CHARS:
        _stem, dot, suffix = text.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        text = text[: MAX_NAME_CHARS - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return text or fallback


def unique_name(name: str, taken: Collection[str]) -> str:
    """`name`, or `name (2)`, `name (3)` … before the extension, whichever is not taken."""
    if name not in taken:
        return name
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot and stem else (name, "")
    number = 2
    while f"{stem} ({number}){suffix}" in taken:
        number += 1
    return f"{stem} ({number}){suffix}"


def sql_identifier(name: str, taken: Collection[str] = (), fallback: str = "t") -> str:
    """A lower-case [a-z_][a-z0-9_]* identifier from a name ("Sales 2024" -> "sales_2024"), unique among
    `taken` (compared without case, as SQLite does)."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    identifier = IDENTIFIER_CHARS.sub("_", ascii_text).strip("_")[:MAX_IDENTIFIER_CHARS].rstrip("_")
    if not identifier or identifier[0].isdigit():
        identifier = f"{fallback}_{identifier}".rstrip("_")
    if identifier.startswith("sqlite_"):
        identifier = f"{fallback}_{identifier}"
    lowered = {item.lower() for item in taken}
    candidate, number = identifier, 2
    while candidate in lowered:
        candidate, number = f"{identifier}_{number}", number + 1
    return candidate


def stem(name: str) -> str:
    """The name without its extension: "Sales 2024.csv" -> "Sales 2024"."""
    base, dot, _suffix = name.rpartition(".")
    return base if dot and base.strip(".") else name




def checked_id(value: str, what: str) -> str:
    """Ids that become folder names must look like the ids we make (token_urlsafe, hex)."""
    if not SAFE_ID.match(value):
        raise ValueError(f"not a valid {what} id")
    return value
