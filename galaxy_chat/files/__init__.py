"""Files in the chat: uploads checked by their content, kept per chat, and made usable at once.

Tables (CSV/TSV, JSON lines, .xlsx, Parquet) become SQLite tables the sql tool can query; documents (PDF,
HTML, Markdown, text) become passages retrieval can cite; images are parsed and can be read back; every
file of a chat is what the python tool sees in /data. Nothing here knows the page. Public API:

    uploads = Uploads.from_settings(settings, store)       # store: the HistoryStore (galaxy_chat.store)
    file = await uploads.accept(owner, conversation_id, name, source)   # source: a temp file's Path, or bytes
        # -> StoredFile (id, name, kind table|document|image|text|other, mime, size, sha256, meta)
        # or raises FileRefused(reason): reason is one sentence for the person
    await uploads.list_files(owner, conversation_id) / await uploads.get(owner, file_id)
    Uploads.chip(file)                                     # "12,840 rows x 9 columns", "12 pages", "800 x 600"
    await uploads.preview(file, rows=20)                   # -> vocabulary Table (None unless a table)
    await uploads.tables_context(owner, conversation_id)   # schema + first rows, <= 2,000 characters
    uploads.table_database(owner, conversation_id)         # tables.db Path for sqlite_readonly, or None
    await uploads.retrieve(owner, conversation_id, query, limit)   # -> list[Passage], "name.pdf, page 3"
    await uploads.read_bytes(file)                         # the bytes as uploaded (images for vision models)
    await uploads.sandbox_files(owner, conversation_id)    # [(display name, path)] for PythonSandbox.run
    await uploads.delete(owner, file_id)
    await uploads.delete_conversation_files(owner, conversation_id)  # when a chat is deleted for good
    await uploads.sweep()                                  # after store.purge()/delete_all(): orphaned folders

Where files live and why, the limits and the security measures: docs/files.md.
"""

from galaxy_chat.files.errors import FileRefused
from galaxy_chat.files.uploads import StoredFile, UploadLimits, Uploads

__all__ = ["FileRefused", "StoredFile", "UploadLimits", "Uploads"]
