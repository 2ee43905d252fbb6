"""The text of a document, page by page: PDF (pypdf), HTML (the standard library's parser), Markdown, text.

HTML is read as text only: what scripts, styles, templates, frames and embedded objects hold is dropped,
attributes (event handlers, URLs) are never read, headings become Markdown headings so passages follow
the sections. A PDF that is password-protected or damaged is refused; one without a text layer (a scan)
is kept with a note. Text beyond MAX_TEXT_CHARS is not indexed (noted).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from galaxy_chat.files.detect import Detected
from galaxy_chat.files.errors import FileRefused

MAX_TEXT_CHARS = 5_000_000
MAX_PAGES = 2000
MAX_PDF_SECONDS = 60.0  # a crafted PDF can make text extraction crawl: the pages read by then are kept
SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
                          "head", "textarea", "select"})
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "table", "section", "article", "header", "footer", "ul",
                        "ol", "blockquote", "pre", "hr", "dd", "dt", "figure", "main", "nav", "aside", "form"})
VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "source", "track", "wbr"})
NO_TEXT_LAYER = "This PDF has no text layer (it may be a scan): its pages cannot be searched."


@dataclass
class DocumentText:
    pages: list[tuple[int | None, str]]  # (page number or None, text)
    markdown: bool  # cut at headings
    notes: list[str] = field(default_factory=list)
    page_count: int | None = None


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.size = 0

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS and tag not in VOID_TAGS:
            self.skipping.append(tag)
        elif not self.skipping and len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif not self.skipping and tag in BLOCK_TAGS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        elif tag in self.skipping:  # a badly nested page: close up to that tag
            del self.skipping[self.skipping.index(tag):]
        elif not self.skipping and (tag in BLOCK_TAGS or tag[:1] == "h"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping and self.size < MAX_TEXT_CHARS:
            self.parts.append(data)
            self.size += len(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(lines).strip()


def html_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return parser.text()


def _opens_without_password(reader: Any) -> bool:
    """Many PDFs are encrypted with an empty password (only to forbid printing or copying): those are read."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the crypto library: treated like a password we do not have
        return False


def _pdf(path: Path) -> DocumentText:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF warns once per object otherwise
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise FileRefused("This PDF is password-protected: remove the password and upload it again.")
        count = len(reader.pages)
    except FileRefused:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, OSError, RecursionError, NotImplementedError) as exc:
        raise FileRefused(f"This PDF could not be read: it looks damaged ({type(exc).__name__}).") from None
    pages: list[tuple[int | None, str]] = []
    size, notes, began = 0, [], time.monotonic()
    for number in range(min(count, MAX_PAGES)):
        if time.monotonic() - began > MAX_PDF_SECONDS:
            notes.append(f"only the first {number} pages could be read in {MAX_PDF_SECONDS:.0f} s")
            break
        try:
            text = reader.pages[number].extract_text() or ""
        except Exception:  # one broken page must not cost the others
            notes.append(f"page {number + 1} could not be read")
            continue
        text = text[: MAX_TEXT_CHARS - size]
        size += len(text)
        if text.strip():
            pages.append((number + 1, text))
    if count > MAX_PAGES:
        notes.append(f"only the first {MAX_PAGES} of {count} pages are searched")
    if not pages:
        notes.append(NO_TEXT_LAYER)
    return DocumentText(pages, False, notes, count)


def document_text(path: Path, detected: Detected) -> DocumentText:
    if detected.format == "pdf":
        return _pdf(path)
    with path.open(encoding=detected.encoding or "utf-8", errors="replace") as file:
        text = file.read(MAX_TEXT_CHARS + 1)
    notes = [f"only the first {MAX_TEXT_CHARS:,} characters are searched"] if len(text) > MAX_TEXT_CHARS else []
    text = text[:MAX_TEXT_CHARS]
    if detected.format == "html":
        return DocumentText([(None, html_text(text))], True, notes)
    return DocumentText([(None, text)], detected.format == "markdown", notes)
