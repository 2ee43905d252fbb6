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

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from galaxy_chat.yaml_config import entry_list, load_yaml, mappings, read_text, validation_problem

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
    if item["type"] in ("union_tag_not_found", "union_tag_invalid"):
        return f"field 'kind': must be documents or table (got {raw.get('kind')!r})"
    if item["loc"][1:] == ("id",) and item["type"] == "string_pattern_mismatch":
        return f"field 'id': use lower-case letters, digits and _ , starting with a letter (got {raw.get('id')!r})"
    return validation_problem(error, FIELDS.get(str(item["loc"][0]), []), skip=1)  # loc[0] is the union tag


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
    entries, _ = entry_list(load_yaml(text, where, DataSourceError), where, DataSourceError, "sources")
    sources: list[DocumentSource | TableSource] = []
    seen: dict[str, int] = {}
    for index, (entry, raw) in enumerate(mappings(entries, where, DataSourceError, "sources", "id")):
        label = f"{where}: {entry}"
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
    text = read_text(path, DataSourceError)
    return [] if text is None else parse_sources(text, str(path), data_dir)
