"""Keeping a document collection's index in step with its folder.

`sync_documents` runs before every search and preview, so it must be cheap when nothing changed: it only
stats the files (size and mtime in nanoseconds). A file whose stat changed is hashed, and re-chunked only
when its content really changed (a `touch` costs one hash, not a re-index).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galaxy_chat.data.chunking import CHUNKER_VERSION, chunk_document
from galaxy_chat.data.search_index import SearchIndex, SourceUnavailable
from galaxy_chat.data.sources_file import DocumentSource

log = logging.getLogger(__name__)

_reported: set[tuple[str, str, int]] = set()  # files skipped and already logged, so a search never spams


@dataclass(frozen=True)
class FileStat:
    path: Path
    size: int
    mtime_ns: int


def scan(source: DocumentSource) -> dict[str, FileStat]:
    """The indexable files of the folder by relative path: no hidden files, no symlinks, not too big."""
    folder = Path(source.path)
    if not folder.is_dir():
        raise SourceUnavailable(f"The folder of data source {source.id!r} does not exist.")
    extensions = {extension.lower() for extension in source.extensions}
    found: dict[str, FileStat] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        # Symlinks could point outside the folder the operator meant to publish.
        if any(part.startswith(".") for part in relative.parts) or path.is_symlink() or not path.is_file():
            continue
        if path.suffix.lower() not in extensions:
            continue
        stat = path.stat()
        if stat.st_size > source.max_file_kb * 1024:
            key = (source.id, relative.as_posix(), stat.st_size)
            if key not in _reported:
                _reported.add(key)
                log.warning("data source %s: skipping %s (%d KB, over max_file_kb %d)", source.id,
                            relative.as_posix(), stat.st_size // 1024, source.max_file_kb)
            continue
        found[relative.as_posix()] = FileStat(path, stat.st_size, stat.st_mtime_ns)
    return found


def sync_documents(index: SearchIndex, source: DocumentSource) -> int:
    """Bring the source's index up to date; return how many files were (re-)chunked."""
    files = scan(source)
    with index.lock(source.id), index.connect() as connection:
        index.prepare(connection, source.id, f"{source.fingerprint()}-chunker{CHUNKER_VERSION}")
        stored = {path: (size, mtime, digest) for path, size, mtime, digest in connection.execute(
            "SELECT path, size, mtime_ns, sha256 FROM files WHERE source_id = ?", (source.id,))}
        changed = [path for path, stat in files.items()
                   if path not in stored or stored[path][:2] != (stat.size, stat.mtime_ns)]
        removed = [path for path in stored if path not in files]
        if not changed and not removed:
            return 0
        rechunked = 0
        connection.execute("BEGIN IMMEDIATE")
        try:
            for path in removed:
                index.clear_location(connection, source.id, path)
                connection.execute("DELETE FROM files WHERE source_id = ? AND path = ?", (source.id, path))
            for path in changed:
                rechunked += _index_file(index, connection, source.id, path, files[path], stored.get(path))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    if rechunked or removed:
        log.info("data source %s: indexed %d changed file(s), removed %d", source.id, rechunked, len(removed))
    return rechunked


def _index_file(index: SearchIndex, connection: Any, source_id: str, path: str, stat: FileStat,
                before: tuple[int, int, str] | None) -> int:
    try:
        content = stat.path.read_bytes()
    except OSError as exc:  # vanished or unreadable between scan and read: index it next time
        log.warning("data source %s: cannot read %s (%s)", source_id, path, exc)
        return 0
    digest = hashlib.sha256(content).hexdigest()
    # The stat we record is the one taken before reading: a write racing with us changes it again.
    if before is not None and before[2] == digest:
        connection.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE source_id = ? AND path = ?",
                           (stat.size, stat.mtime_ns, source_id, path))
        return 0
    chunks = chunk_document(content.decode("utf-8", errors="replace"), Path(path).name)
    index.clear_location(connection, source_id, path)
    index.add_chunks(connection, source_id, ((chunk.title, chunk.text, path) for chunk in chunks))
    connection.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                       (source_id, path, stat.size, stat.mtime_ns, digest, len(chunks)))
    return 1


def preview_documents(index: SearchIndex, source: DocumentSource) -> dict[str, Any]:
    """Files with sizes and chunk counts, and the collection's first passage."""
    sync_documents(index, source)
    files = index.files(source.id)
    first = index.first_chunk(source.id, files[0][0]) if files else None
    return {
        "files": [{"path": path, "size": size, "chunks": chunks} for path, size, chunks in files],
        "chunks": sum(chunks for _, _, chunks in files),
        "first_chunk": {"title": first.title, "location": first.location, "text": first.text} if first else None,
    }
