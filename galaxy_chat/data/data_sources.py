"""The configured data sources and their search index: what `/data` lists and retrieval searches.

It knows nothing about people: every caller asks the Policy first (see `Retriever` and `web/data_api.py`).
Methods here do blocking file and SQLite work; async callers run them with `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from galaxy_chat.data.documents import preview_documents, sync_documents
from galaxy_chat.data.search_index import FILE_NAME, Hit, SearchIndex, SourceUnavailable
from galaxy_chat.data.sources_file import DocumentSource, TableSource, load_source_file
from galaxy_chat.data.tables import preview_table, sync_table
from galaxy_chat.settings import Settings

log = logging.getLogger(__name__)

Source = DocumentSource | TableSource


class DataSources:
    def __init__(self, sources: list[Source], index: SearchIndex, preview_timeout_s: float = 5.0) -> None:
        self.sources = {source.id: source for source in sources}
        self.index = index
        self.preview_timeout_s = preview_timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> DataSources:
        """Sources of DATA_SOURCES_FILE (none when absent), indexed in DATA_DIR/index.db.

        Raises DataSourceError (one line) when the file is malformed.
        """
        sources = load_source_file(settings.data_sources_file, settings.data_dir)
        registry = cls(sources, SearchIndex(Path(settings.data_dir) / FILE_NAME), settings.query_timeout_s)
        for source in sources:
            if problem := registry.problem(source.id):
                log.warning("data source %s is unavailable: %s", source.id, problem)
        return registry

    def ids(self) -> list[str]:
        return list(self.sources)

    def get(self, source_id: str) -> Source | None:
        return self.sources.get(source_id)

    def problem(self, source_id: str) -> str | None:
        """Why the source cannot be used now (cheap: a stat), or None."""
        source = self.sources[source_id]
        if isinstance(source, DocumentSource):
            return None if Path(source.path).is_dir() else "its folder does not exist"
        return None if Path(source.database).is_file() else "its database does not exist"

    def describe(self, source_id: str) -> dict[str, Any]:
        source = self.sources[source_id]
        problem = self.problem(source_id)
        summary: dict[str, Any] = {"id": source.id, "name": source.title, "description": source.description,
                                   "kind": source.kind, "available": problem is None}
        if problem:
            summary["problem"] = problem
        return summary

    def descriptions(self, source_ids: list[str]) -> dict[str, str]:
        """id -> "name: description" for pickers (e.g. the chat page's drawer)."""
        found = (self.sources[source_id] for source_id in source_ids if source_id in self.sources)
        return {source.id: f"{source.title}: {source.description}".rstrip(": ") for source in found}

    def sync(self, source_id: str) -> None:
        """Bring the source's index up to date (cheap when nothing changed). Raises SourceUnavailable."""
        source = self.sources[source_id]
        if isinstance(source, DocumentSource):
            sync_documents(self.index, source)
        else:
            sync_table(self.index, source)

    def search(self, source_id: str, match: str, limit: int) -> list[Hit]:
        self.sync(source_id)
        return self.index.search(source_id, match, limit)

    def preview(self, source_id: str) -> dict[str, Any]:
        """Metadata plus a small look inside. Raises SourceUnavailable."""
        source = self.sources[source_id]
        body = self.describe(source_id)
        if isinstance(source, DocumentSource):
            body.update(preview_documents(self.index, source))
        else:
            body.update(preview_table(self.index, source, self.preview_timeout_s))
        return body

    def warm_up(self) -> None:
        """Index every available source now (e.g. in a background thread at start), logging what fails."""
        for source_id in self.sources:
            try:
                if self.problem(source_id) is None:
                    self.sync(source_id)
            except SourceUnavailable as exc:
                log.warning("data source %s: %s", source_id, exc)
            except Exception:
                log.exception("data source %s: indexing failed", source_id)
