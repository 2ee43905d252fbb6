"""Where uploaded files live on disk, and copying an upload there.

    DATA_DIR/uploads/<owner hash>/<conversation id>/<file id>   the bytes as sent (mode 0600)
                                                   /tables.db   the chat's tables (galaxy_chat/files/tables.py)
                                                   /index.db    the chat's document passages (FTS5)
    DATA_DIR/uploads/.runs/run-*/{data,out}    a python run's view of one chat's files (hard links), removed after

The owner is a hash (an email never becomes a folder name), the conversation and file ids are checked
to be ids we make, and the name the browser sent is never part of a path. Folders are 0700.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from galaxy_chat.files.errors import FileRefused
from galaxy_chat.files.names import checked_id
from galaxy_chat.vocabulary.users import normalise_email

CHUNK = 1 << 20
FOLDER_MODE = 0o700
FILE_MODE = 0o600


class Layout:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve() / "uploads"
        self.runs_dir = self.root / ".runs"  # the python tool's per-run views (tools/sandbox/run_files.py)

    def owner_dir(self, owner: str) -> Path:
        return self.root / hashlib.sha256(normalise_email(owner).encode()).hexdigest()[:32]

    def chat_dir(self, owner: str, conversation_id: str) -> Path:
        return self.owner_dir(owner) / checked_id(conversation_id, "conversation")

    def file_path(self, owner: str, conversation_id: str, file_id: str) -> Path:
        return self.chat_dir(owner, conversation_id) / checked_id(file_id, "file")

    def tables_db(self, owner: str, conversation_id: str) -> Path:
        return self.chat_dir(owner, conversation_id) / "tables.db"

    def index_db(self, owner: str, conversation_id: str) -> Path:
        return self.chat_dir(owner, conversation_id) / "index.db"

    def ensure_chat_dir(self, owner: str, conversation_id: str) -> Path:
        folder = self.chat_dir(owner, conversation_id)
        for path in (self.root, folder.parent, folder):
            path.mkdir(mode=FOLDER_MODE, exist_ok=True)
            path.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask
        return folder

    def remove_chat(self, owner: str, conversation_id: str) -> None:
        shutil.rmtree(self.chat_dir(owner, conversation_id), ignore_errors=True)

    def chat_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [chat for owner in self.root.iterdir()
                if owner.is_dir() and not owner.is_symlink() and not owner.name.startswith(".")
                for chat in owner.iterdir() if chat.is_dir() and not chat.is_symlink()]


def copy_in(source: Path | bytes, destination: Path, max_bytes: int) -> tuple[int, str]:
    """Write `source` to a new file `destination` (0600, never following a link); (size, sha256). Refuses
    past `max_bytes` without reading further."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(source):
                size += len(chunk)
                if size > max_bytes:
                    raise FileRefused(f"This file is larger than the {max_bytes // (1024 * 1024)} MB allowed.")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    if size == 0:
        destination.unlink(missing_ok=True)
        raise FileRefused("This file is empty.")
    return size, digest.hexdigest()


def _chunks(source: Path | bytes) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        return (bytes(view[at:at + CHUNK]) for at in range(0, len(view), CHUNK))
    return _file_chunks(Path(source))


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk
