"""Splitting a document into passages that are small enough to quote and big enough to answer.

Markdown is cut at headings first (a section is what people cite), then long sections at paragraph breaks
into pieces of at most MAX_CHARS. Sections shorter than MIN_CHARS are joined to the next ones, and a short
last section to the one before, so no passage is a bare heading or one stray line; the title then names
every section it holds. Plain text is cut at paragraph breaks only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHUNKER_VERSION = 1  # part of the index fingerprint: changing the rules below re-indexes every document
MIN_CHARS = 500
TARGET_CHARS = 800
MAX_CHARS = 1000
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    title: str  # heading path, e.g. "Laptops > Nova 15 Pro > Battery"
    text: str


@dataclass
class _Section:
    path: list[str]
    lines: list[str]

    @property
    def body(self) -> str:
        return "\n".join(self.lines).strip()


def _sections(text: str) -> list[_Section]:
    sections = [_Section([], [])]
    stack: list[tuple[int, str]] = []  # (level, heading) of the headings above the current line
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            level, heading = len(match.group(1)), match.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            sections.append(_Section([name for _, name in stack], [line]))
        else:
            sections[-1].lines.append(line)
    return [section for section in sections if section.body]


def _split_long(paragraph: str) -> list[str]:
    """A paragraph over MAX_CHARS, cut at sentence ends (or hard, for one endless sentence)."""
    pieces: list[str] = []
    current = ""
    for sentence in SENTENCE_END.split(paragraph):
        while len(sentence) > MAX_CHARS:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:MAX_CHARS])
            sentence = sentence[MAX_CHARS:]
        if current and len(current) + 1 + len(sentence) > MAX_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _pack(body: str) -> list[str]:
    """Paragraphs of `body` gathered into pieces of TARGET..MAX_CHARS characters."""
    paragraphs: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = paragraph.strip()
        if paragraph:
            paragraphs += [paragraph] if len(paragraph) <= MAX_CHARS else _split_long(paragraph)
    pieces: list[str] = []
    current = ""
    for paragraph in paragraphs:
        if current and (len(current) >= TARGET_CHARS or len(current) + 2 + len(paragraph) > MAX_CHARS):
            pieces.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    return pieces


def _title(paths: list[list[str]], fallback: str) -> str:
    """Title of joined sections: parents give way to their children, siblings are added with " + "."""
    kept = [path for number, path in enumerate(paths)
            if path and not any(later[:len(path)] == path for later in paths[number + 1:])]
    if not kept:
        return fallback
    return " > ".join(kept[0]) + "".join(f" + {path[-1]}" for path in kept[1:])


def chunk_markdown(text: str, fallback_title: str) -> list[Chunk]:
    groups: list[list[_Section]] = []  # sections that become one passage (or several, when too long)
    carried: list[_Section] = []  # short sections waiting to be joined to the next one
    for section in _sections(text):
        carried.append(section)
        if sum(len(part.body) for part in carried) >= MIN_CHARS:
            groups.append(carried)
            carried = []
    if carried:
        # A short tail joins the group before it when both fit in one passage.
        if groups and sum(len(part.body) + 2 for part in groups[-1] + carried) <= MAX_CHARS:
            groups[-1] += carried
        else:
            groups.append(carried)
    chunks: list[Chunk] = []
    for group in groups:
        title = _title([part.path for part in group], fallback_title)
        pieces = _pack("\n\n".join(part.body for part in group))
        for index, piece in enumerate(pieces):
            chunks.append(Chunk(title if len(pieces) == 1 else f"{title} ({index + 1}/{len(pieces)})", piece))
    return chunks


def chunk_text(text: str, fallback_title: str) -> list[Chunk]:
    pieces = _pack(text)
    if len(pieces) == 1:
        return [Chunk(fallback_title, pieces[0])]
    return [Chunk(f"{fallback_title} ({index + 1}/{len(pieces)})", piece) for index, piece in enumerate(pieces)]


def chunk_document(text: str, name: str) -> list[Chunk]:
    """Chunks of one file; `name` (the file name) titles passages that have no heading."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if name.lower().endswith((".md", ".markdown")):
        return chunk_markdown(text, name)
    return chunk_text(text, name)
