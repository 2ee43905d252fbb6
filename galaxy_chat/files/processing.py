"""What happens to an upload once its bytes are on disk: detect it, check it, make it usable.

Tables go into the chat's tables.db, documents into its passage index, images are parsed; whatever fails
part-way is undone, so a refused file leaves nothing behind. Blocking: run it in a worker thread.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from galaxy_chat.files.detect import Detected, detect
from galaxy_chat.files.document_text import document_text
from galaxy_chat.files.errors import FileRefused
from galaxy_chat.files.images import check_image
from galaxy_chat.files.passages import drop_document, index_document
from galaxy_chat.files.table_formats import read_tables
from galaxy_chat.files.table_writer import TableInfo, drop_tables, write_table

ALLOWED_KINDS = frozenset({"table", "document", "image", "text", "other"})


def process(path: Path, name: str, file_id: str, tables_db: Path, index_db: Path) -> tuple[Detected, dict[str, Any]]:
    """(what the file is, its metadata); raises FileRefused with the reason for the person."""
    detected = detect(path)
    if detected.kind not in ALLOWED_KINDS:
        raise FileRefused("Files of this kind are not accepted.")
    if detected.kind == "image":
        mime, width, height = check_image(path.read_bytes())
        return Detected("image", mime, "image"), {"width": width, "height": height}
    if detected.kind == "table":
        return detected, _import_tables(path, detected, name, tables_db)
    if detected.kind in ("document", "text"):
        try:
            document = document_text(path, detected)
            passages = index_document(index_db, file_id, name, document) if document.pages else 0
        except BaseException:
            drop_document(index_db, file_id)
            raise
        meta: dict[str, Any] = {"passages": passages, "notes": document.notes}
        if document.page_count is not None:
            meta["pages"] = document.page_count
        return detected, meta
    return detected, {}


def _import_tables(path: Path, detected: Detected, name: str, tables_db: Path) -> dict[str, Any]:
    written: list[TableInfo] = []
    try:
        try:
            for table_name, header, rows in read_tables(path, detected, name):
                written.append(write_table(tables_db, table_name, header, rows))
        except csv.Error as exc:  # raised by the reader while the rows stream in
            raise FileRefused(f"This file could not be read as a table: {exc}.") from None
    except BaseException:
        drop_tables(tables_db, [table.name for table in written])
        raise
    if not written:
        raise FileRefused("This spreadsheet has no rows.")
    return {"tables": [table.as_meta() for table in written], "rows": sum(table.rows for table in written),
            "columns": sum(len(table.columns) for table in written)}


def undo(meta: dict[str, Any], file_id: str, tables_db: Path, index_db: Path) -> None:
    """Remove what `process` made for a file (its tables, its passages)."""
    drop_tables(tables_db, [table["name"] for table in meta.get("tables", [])])
    drop_document(index_db, file_id)
