"""A chat's documents as passages in its own FTS5 index (index.db beside its files), and searching them.

The index is galaxy_chat/data's SearchIndex with one source per file ("f" + the file id), so removing a
file drops its table, and the passages are scored like the shipped data sources' (retrieval.scored_hits).
A passage cites its file and page: location "report.pdf, page 3".
"""

from __future__ import annotations

from pathlib import Path

from galaxy_chat.data.chunking import chunk_markdown, chunk_text
from galaxy_chat.data.retrieval import query_terms, scored_hits
from galaxy_chat.data.search_index import SearchIndex, fts_table
from galaxy_chat.files.document_text import DocumentText
from galaxy_chat.vocabulary.passages import Passage


def source_id(file_id: str) -> str:
    return "f" + file_id.lower()  # file ids are hex: a valid source id


def location(name: str, page: int | None) -> str:
    return f"{name}, page {page}" if page is not None else name


def index_document(index_path: Path, file_id: str, name: str, document: DocumentText) -> int:
    """Add the document's passages; returns how many."""
    index, source = SearchIndex(index_path), source_id(file_id)
    chunk = chunk_markdown if document.markdown else chunk_text
    rows = [(piece.title, piece.text, location(name, page))
            for page, text in document.pages
            for piece in chunk(text.replace("\r\n", "\n").replace("\r", "\n"), name)]
    with index.lock(source), index.connect() as connection:
        index.prepare(connection, source, file_id)
        connection.execute("BEGIN IMMEDIATE")
        try:
            index.clear_location(connection, source)
            index.add_chunks(connection, source, rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return len(rows)


def drop_document(index_path: Path, file_id: str) -> None:
    if not index_path.exists():
        return
    index, source = SearchIndex(index_path), source_id(file_id)
    with index.lock(source), index.connect() as connection:
        connection.execute(f"DROP TABLE IF EXISTS {fts_table(source)}")
        connection.execute("DELETE FROM sources WHERE id = ?", (source,))


def search_documents(index_path: Path, files: dict[str, str], question: str, limit: int) -> list[Passage]:
    """The best `limit` passages of the files (id -> name) for the question, best first."""
    terms = query_terms(question)
    if not terms or limit <= 0 or not index_path.exists():
        return []
    index = SearchIndex(index_path)
    with index.connect() as connection:
        present = {row[0] for row in connection.execute("SELECT id FROM sources")}
    passages = [
        Passage(source_id=f"file:{file_id}", source_name=name, kind="documents", title=hit.title,
                location=hit.location, text=hit.text, score=score)
        for file_id, name in files.items() if source_id(file_id) in present
        for hit, score in scored_hits(index, source_id(file_id), terms)
    ]
    passages.sort(key=lambda passage: passage.score, reverse=True)
    return passages[:limit]
