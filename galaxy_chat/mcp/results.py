"""An MCP `CallToolResult` as an `McpOutcome`: capped text for the model, widgets that show the person all of it.

Text content is the model's text. Images become `Image` widgets when their bytes are PNG, JPEG, GIF or WebP,
downloads otherwise (SVG included: it can carry script). Structured content becomes a `Table` when it is a
list of records (plus a chart when it is a label/number series), else a JSON view. Embedded resources become a
Markdown view (text) or a `File` download (binary); resource links a Markdown link. Text longer than the model
may read is cut with a note, and long text is given to the person as a download with a short preview.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import posixpath
import re
from typing import Any

import mcp.types as types

from galaxy_chat.mcp.outcome import McpOutcome
from galaxy_chat.vocabulary.widgets import File, Image, Markdown, Table, Widget, image_type

log = logging.getLogger(__name__)

MAX_TABLE_ROWS = 5_000  # the page pages a table; past this the person downloads the JSON instead
LONG_TEXT_CHARS = 20_000  # longer text is offered as a download plus a preview
PREVIEW_CHARS = 2_000
MAX_JSON_VIEW_CHARS = 50_000
_EXTENSIONS = {"text/plain": ".txt", "text/markdown": ".md", "text/csv": ".csv", "application/json": ".json",
               "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/svg+xml": ".svg",
               "audio/wav": ".wav", "audio/mpeg": ".mp3", "application/pdf": ".pdf"}


def outcome_from_result(result: types.CallToolResult, *, label: str, max_chars: int) -> McpOutcome:
    """Map a result; `label` (`server__tool`) names downloads, `max_chars` caps the model's text."""
    texts: list[str] = []
    widgets: list[Widget] = []
    for index, block in enumerate(result.content):
        texts.extend(_block(block, f"{label}-{index + 1}", widgets))
    structured = result.structured_content
    if structured is not None and not result.is_error:
        widgets.extend(_structured(structured, label))
        if not texts:
            texts.append(json.dumps(structured, ensure_ascii=False, default=str))
    text = "\n\n".join(part for part in texts if part) or ("(no output)" if not result.is_error else "(no details)")
    full = len(text)
    if full > LONG_TEXT_CHARS and not result.is_error:
        widgets.insert(0, File(name=f"{label}.txt", data=text.encode(), mime="text/plain"))
        widgets.insert(1, Markdown(text=f"Preview ({full:,} characters in the download):\n\n"
                                   + code_block(text[:PREVIEW_CHARS] + "\n…")))
    truncated = full > max_chars
    if truncated:
        text = (text[:max_chars] + f"\n\n[result cut to {max_chars:,} of {full:,} characters for the model; "
                "the person sees all of it]")
    return McpOutcome(text=text, widgets=widgets, is_error=bool(result.is_error), truncated=truncated,
                      full_chars=full, structured=structured)


def _block(block: Any, name: str, widgets: list[Widget]) -> list[str]:
    """The model's text for one content block; widgets for the person are appended."""
    if isinstance(block, types.TextContent):
        return [block.text]
    if isinstance(block, types.ImageContent | types.AudioContent):
        data = _decode(block.data)
        if data is None:
            return [f"[{block.type} with invalid base64 data left out]"]
        kind = "image" if isinstance(block, types.ImageContent) else "audio"
        if kind == "image" and image_type(data) == block.mime_type:  # shown when it is what it claims to be
            widgets.append(Image(data=data, alt=name))
        else:
            widgets.append(File(name=name + _EXTENSIONS.get(block.mime_type, ""), data=data, mime=block.mime_type))
        return [f"[{kind}: {block.mime_type}, {_size(len(data))}, shown to the person]"]
    if isinstance(block, types.EmbeddedResource):
        return [_resource(block.resource, widgets)]
    if isinstance(block, types.ResourceLink):
        title = block.title or block.name
        link = f"[{escape_markdown(title)}]({block.uri})" if re.match(r"^https?://", block.uri) else f"`{block.uri}`"
        about = f": {escape_markdown(block.description)}" if block.description else ""
        widgets.append(Markdown(text=f"Resource {link}{about}"))
        return [f"[resource link: {title} <{block.uri}>{' - ' + block.description if block.description else ''}]"]
    return [f"[content of type {getattr(block, 'type', type(block).__name__)!r} left out]"]


def _resource(resource: Any, widgets: list[Widget]) -> str:
    uri = str(resource.uri)
    mime = resource.mime_type or "application/octet-stream"
    name = posixpath.basename(uri.split("?")[0].rstrip("/")) or "resource"
    if isinstance(resource, types.TextResourceContents):
        text = resource.text
        if mime == "text/markdown" and len(text) <= LONG_TEXT_CHARS:
            widgets.append(Markdown(text=text))
        elif len(text) <= LONG_TEXT_CHARS and not mime.startswith(("text/csv", "application/octet")):
            widgets.append(Markdown(text=f"`{uri}`\n\n" + code_block(text)))
        else:
            widgets.append(File(name=name, data=text.encode(), mime=mime))
        return f"[resource {uri} ({mime})]\n{text}"
    data = _decode(resource.blob)
    if data is None:
        return f"[resource {uri} with invalid base64 data left out]"
    widgets.append(File(name=name, data=data, mime=mime))
    return f"[file {name}: {mime}, {_size(len(data))}, offered to the person as a download]"


def _structured(value: Any, label: str) -> list[Widget]:
    if isinstance(value, dict) and set(value) == {"result"}:
        value = value["result"]  # the SDK's MCPServer wraps a non-object return value this way
    if value is None or isinstance(value, str | int | float | bool):
        return []  # the text already says it
    records = _records(value)
    if records is not None:
        columns, rows = records
        widgets: list[Widget] = [Table(columns=columns, rows=rows[:MAX_TABLE_ROWS], total_rows=len(rows))]
        chart = _chart(columns, rows)
        if chart is not None:
            widgets.append(chart)
        if len(rows) > MAX_TABLE_ROWS:
            widgets.append(File(name=f"{label}.json", data=json.dumps(value, default=str).encode(),
                                mime="application/json"))
        return widgets
    pretty = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(pretty) > MAX_JSON_VIEW_CHARS:
        return [File(name=f"{label}.json", data=pretty.encode(), mime="application/json"),
                Markdown(text=code_block(pretty[:PREVIEW_CHARS] + "\n…", "json"))]
    return [Markdown(text=code_block(pretty, "json"))]


def _records(value: Any) -> tuple[list[str], list[list[Any]]] | None:
    """Columns and rows when the value is a non-empty list of flat-ish records."""
    if not isinstance(value, list) or not value or not all(isinstance(row, dict) for row in value):
        return None
    columns: dict[str, None] = {}
    for row in value:
        columns.update(dict.fromkeys(str(key) for key in row))
    names = list(columns)
    rows = [[_cell(row.get(name)) for name in names] for row in value]
    return names, rows


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _chart(columns: list[str], rows: list[list[Any]]) -> Widget | None:
    try:
        from tools.sql_query import chart_for  # imported here: plotly is slow to load and most results need none

        return chart_for(columns, [tuple(row) for row in rows])
    except Exception:
        log.exception("mcp: building a chart failed; showing the table only")
        return None


def _decode(data: str) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _size(count: int) -> str:
    if count < 2048:
        return f"{count} bytes"
    return f"{count / 1024:.0f} KB" if count < 2 << 20 else f"{count / 2**20:.1f} MB"


def code_block(text: str, language: str = "") -> str:
    """A fenced block that the text itself cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text}\n{fence}"


def escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)
