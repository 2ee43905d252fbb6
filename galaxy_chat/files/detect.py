"""What a file is, decided from its bytes alone: never from the name or the MIME type the browser sent.

Binary formats are told by their magic numbers (PDF, PNG/JPEG/GIF/WebP, the zip inside .xlsx, Parquet);
programs and other archives are refused. Text is decoded (UTF-8, UTF-16 with a byte-order mark, cp1252,
Latin-1) and parsed: HTML markup, JSON lines, delimited rows (csv.Sniffer, then checked), Markdown headings,
else plain text.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from galaxy_chat.files.errors import FileRefused
from galaxy_chat.vocabulary.widgets import image_type

SAMPLE_BYTES = 64 * 1024
CHUNK = 1 << 20
PROGRAMS = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
ARCHIVES = (b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"BZh", b"\xfd7zXZ\x00")
HTML_START = re.compile(r"^\s*(?:<!--.*?-->\s*|<\?xml[^>]*>\s*)*<(?:!doctype\s+html|html|head|body|script|meta|"
                        r"title|style|div|table|p|h[1-6])\b", re.IGNORECASE | re.DOTALL)
SVG_START = re.compile(r"^\s*(?:<\?xml[^>]*>\s*|<!--.*?-->\s*|<!doctype\s+svg[^>]*>\s*)*<svg\b",
                       re.IGNORECASE | re.DOTALL)
MARKDOWN = re.compile(r"^(?:#{1,6}\s+\S|```|\s*[-*+]\s+\[.\]|\|.*\|\s*$)", re.MULTILINE)
DELIMITERS = ",;\t|"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Detected:
    kind: str  # table, document, image, text, other
    mime: str
    format: str  # csv, jsonl, xlsx, parquet, pdf, html, markdown, text, image, binary
    encoding: str | None = None  # for text formats: how to decode the whole file
    delimiter: str | None = None


def text_encoding(path: Path, head: bytes) -> str | None:
    """The first of utf-8 (-sig), utf-16 (with a BOM), cp1252, latin-1 that decodes the whole file; None for
    binary data (a NUL byte in the sample of a file without a UTF-16 byte-order mark)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in head:
        return None
    else:
        candidates = ["utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8", "cp1252"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as file:
                while chunk := file.read(CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1" if candidates[0] != "utf-16" else None  # latin-1 decodes any bytes


def sample_text(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as file:
        text = file.read(SAMPLE_BYTES)
    return text


def _delimiter(sample: str) -> str | None:
    """The delimiter when the sample's lines are rows of the header's width (at least two columns; half the
    rows may differ: a ragged file is still a table, padded and noted). csv.Sniffer first, then each in turn."""
    lines = sample.splitlines()
    if len(lines) < 2:
        return None
    complete = lines[:-1] if len(sample) >= SAMPLE_BYTES - 4 else lines  # the last may be cut
    try:
        candidates = [csv.Sniffer().sniff("\n".join(complete)[:20_000], delimiters=DELIMITERS).delimiter]
    except csv.Error:
        candidates = list(DELIMITERS)
    for delimiter in candidates:
        rows = [row for row in csv.reader(complete[:50], delimiter=delimiter) if row]
        if len(rows) >= 2 and len(rows[0]) >= 2 and sum(len(row) == len(rows[0]) for row in rows) >= 0.5 * len(rows):
            return delimiter
    return None


def _is_json_lines(sample: str) -> bool:
    lines = [line for line in sample.splitlines()[:5] if line.strip()]
    if len(sample) >= SAMPLE_BYTES - 4 and len(lines) > 1:
        lines = lines[:-1]
    try:
        return bool(lines) and all(isinstance(json.loads(line), dict) for line in lines)
    except ValueError:
        return False


def _zip_kind(path: Path) -> Detected:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused("This file looks like a zip archive but is damaged.") from None
    if "xl/workbook.xml" in names:
        return Detected("table", XLSX, "xlsx")
    raise FileRefused("Archives are not accepted: upload the files inside them instead.")


def detect(path: Path) -> Detected:
    with path.open("rb") as file:
        head = file.read(SAMPLE_BYTES)
        file.seek(max(0, path.stat().st_size - 4))
        tail = file.read(4)
    if not head:
        raise FileRefused("This file is empty.")
    if head.startswith(b"%PDF-"):
        return Detected("document", "application/pdf", "pdf")
    if mime := image_type(head):
        return Detected("image", mime, "image")
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"PAR1") and tail == b"PAR1":
        return Detected("table", "application/vnd.apache.parquet", "parquet")
    if head.startswith(PROGRAMS) or (head.startswith(b"MZ") and b"\x00" in head[:64]):  # ELF, Mach-O, Windows
        raise FileRefused("Programs are not accepted.")
    if head.startswith(ARCHIVES):
        raise FileRefused("Archives are not accepted: upload the files inside them instead.")
    encoding = text_encoding(path, head)
    if encoding is None:
        return Detected("other", "application/octet-stream", "binary")
    sample = sample_text(path, encoding)
    if SVG_START.match(sample):  # markup that can carry script: read like HTML, never shown as an image
        return Detected("document", "image/svg+xml", "html", encoding)
    if HTML_START.match(sample):
        return Detected("document", "text/html", "html", encoding)
    if _is_json_lines(sample):
        return Detected("table", "application/x-ndjson", "jsonl", encoding)
    if delimiter := _delimiter(sample):
        mime = "text/tab-separated-values" if delimiter == "\t" else "text/csv"
        return Detected("table", mime, "csv", encoding, delimiter)
    if MARKDOWN.search(sample):
        return Detected("document", "text/markdown", "markdown", encoding)
    return Detected("text", "text/plain", "text", encoding)
