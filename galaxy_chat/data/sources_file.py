"""Reads config/data_sources.yml: document collections (folders of .md/.txt) and SQL tables or views.

Relative paths are resolved against DATA_DIR, so one DATA_DIR holds a deployment's sources, its sample
database and the search index. A bad file stops start-up with one line naming the file and the entry.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"  # also an SQL identifier and a URL segment, so no quoting anywhere
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DataSourceError(Exception):
    """The data-source configuration is unusable; the message is one line naming the file and the entry."""


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    description: str = ""

    @property
    def title(self) -> str:
        return self.name or self.id

    def fingerprint(self) -> str:
        """Changes whenever the definition changes, so the index is rebuilt for a redefined source."""
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]


class DocumentSource(_Source):
    """A folder of Markdown and text files, chunked and searched with SQLite FTS5 (bm25)."""

    kind: Literal["documents"]
    path: Path
    extensions: list[str] = [".md", ".markdown", ".txt"]
    max_file_kb: int = Field(1024, ge=1, le=65_536)


class TableSource(_Source):
    """A table or view of an SQLite database; its rows are rendered as text and searched with FTS5."""

    kind: Literal["table"]
    database: Path = Path("sample.db")
    table: str
    title_columns: list[str] = []  # empty: the primary key columns, else the first column
    max_rows: int = Field(50_000, ge=1, le=1_000_000)


SourceConfig = Annotated[DocumentSource | TableSource, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[DocumentSource | TableSource] = TypeAdapter(SourceConfig)
FIELDS = {"documents": list(DocumentSource.model_fields), "table": list(TableSource.model_fields)}


def _describe(error: ValidationError, raw: dict[str, Any]) -> str:
    item = error.errors()[0]
    loc = [str(part) for part in item["loc"]]
    if item["type"] in ("union_tag_not_found", "union_tag_invalid"):
        return f"field 'kind': must be documents or table (got {raw.get('kind')!r})"
    where = ".".join(loc[1:]) or "entry"  # loc[0] is the union tag
    if item["type"] == "missing":
        return f"field '{where}' is required"
    if item["type"] == "extra_forbidden":
        return f"unknown field '{where}' (allowed: {', '.join(FIELDS.get(loc[0], []))})"
    if where == "id" and item["type"] == "string_pattern_mismatch":
        return f"field 'id': use lower-case letters, digits and _ , starting with a letter (got {raw.get('id')!r})"
    message = item["msg"]
    if isinstance(item.get("input"), str | int | float):
        message += f" (got {item['input']!r})"
    return f"field '{where}': {message}"


def _entries(data: Any, where: str) -> list[Any]:
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise DataSourceError(f"{where}: expected a mapping with 'sources:'")
    unknown = sorted(str(key) for key in set(data) - {"sources"})
    if unknown:
        raise DataSourceError(f"{where}: unknown top-level key {unknown[0]!r} (expected 'sources')")
    sources = data.get("sources")
    if sources is not None and not isinstance(sources, list):
        raise DataSourceError(f"{where}: 'sources' must be a list of data sources")
    return sources or []


def _check(source: DocumentSource | TableSource, label: str) -> None:
    if isinstance(source, TableSource):
        for name in (source.table, *source.title_columns):
            if not IDENTIFIER.match(name):
                raise DataSourceError(f"{label}: {name!r} is not a plain SQL name (letters, digits, _)")
    else:
        for extension in source.extensions:
            if not extension.startswith(".") or len(extension) < 2:
                raise DataSourceError(f"{label}: field 'extensions': {extension!r} must look like .md")


def parse_sources(text: str, where: str, data_dir: Path) -> list[DocumentSource | TableSource]:
    """The sources in YAML `text`, with relative paths resolved against `data_dir`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DataSourceError(f"{where}: invalid YAML{place}: {getattr(exc, 'problem', None) or 'error'}") from None
    sources: list[DocumentSource | TableSource] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(_entries(data, where)):
        if not isinstance(raw, dict):
            raise DataSourceError(f"{where}: sources[{index}]: expected a mapping of fields, got {type(raw).__name__}")
        label = f"{where}: sources[{index}]" + (f" ({raw['id']})" if isinstance(raw.get("id"), str) else "")
        try:
            source = _ADAPTER.validate_python(raw)
        except ValidationError as exc:
            raise DataSourceError(f"{label}: {_describe(exc, raw)}") from None
        _check(source, label)
        if source.id in seen:
            raise DataSourceError(f"{label}: field 'id' repeats sources[{seen[source.id]}]")
        seen[source.id] = index
        field = "path" if isinstance(source, DocumentSource) else "database"
        location: Path = getattr(source, field)
        if not location.is_absolute():
            source = source.model_copy(update={field: Path(data_dir) / location})
        sources.append(source)
    return sources


def load_source_file(path: Path, data_dir: Path) -> list[DocumentSource | TableSource]:
    """The sources listed in `path`; an absent file lists none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise DataSourceError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    return parse_sources(text, str(path), data_dir)
