"""A run's view of the chat's files: a private folder holding exactly them (read-only to the code), and an
output folder whose files come back to the person, counted and capped.

The view is made per run of hard links (copies where linking is impossible) under the chat's own display
names, in a fresh folder: the code cannot name any other file of the upload folder, whatever path it
tries, because nothing else is bound (bubblewrap) or allowed (Landlock) beside it.
"""

from __future__ import annotations

import codecs
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from galaxy_chat.files.names import display_name, unique_name
from galaxy_chat.vocabulary.widgets import image_type

MB = 1024 * 1024


@dataclass(frozen=True)
class RunFiles:
    """What a run gets: `inputs` as (display name, host path); outputs capped by count and size."""

    inputs: list[tuple[str, Path]] = field(default_factory=list)
    workspace: Path | None = None  # where run folders are made: beside the uploads, so hard links work
    max_outputs: int = 10
    max_output_bytes: int = 10 * MB  # one file
    max_total_bytes: int = 25 * MB


@dataclass(frozen=True)
class Output:
    name: str
    data: bytes
    mime: str


@dataclass
class RunDir:
    root: Path
    data: Path  # read-only to the code: /data (bubblewrap) and ./data
    out: Path  # writable: /out and ./out
    files: RunFiles

    @classmethod
    def make(cls, files: RunFiles) -> RunDir:
        if files.workspace is not None:
            files.workspace.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="run-", dir=files.workspace))
        data, out = root / "data", root / "out"
        data.mkdir(mode=0o700)
        out.mkdir(mode=0o700)
        taken: set[str] = set()
        try:
            for name, source in files.inputs:
                if not os.path.isfile(source):  # removed since it was listed
                    continue
                shown = unique_name(display_name(name), taken)
                taken.add(shown)
                try:
                    os.link(source, data / shown, follow_symlinks=False)
                except OSError:  # another filesystem, or links not allowed: a copy
                    shutil.copyfile(source, data / shown, follow_symlinks=False)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cls(root, data, out, files)

    def collect(self) -> tuple[list[Output], list[str]]:
        """The regular files written to out/, by name, within the limits; notes on what was left out."""
        files = self.files
        outputs: list[Output] = []
        notes: list[str] = []
        total = 0
        with os.scandir(self.out) as entries:
            found = sorted(entries, key=lambda entry: entry.name)
        for entry in found:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                notes.append(f"out/{entry.name} was not returned (not a regular file)")
                continue
            if len(outputs) == files.max_outputs:
                notes.append(f"only the first {files.max_outputs} files of out/ are returned")
                break
            if info.st_size > files.max_output_bytes or total + info.st_size > files.max_total_bytes:
                notes.append(f"out/{entry.name} was not returned: {info.st_size / MB:.1f} MB is over the limit of "
                             f"{files.max_output_bytes // MB} MB per file and {files.max_total_bytes // MB} MB in all")
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as file:
                data = file.read(files.max_output_bytes + 1)[: files.max_output_bytes]
            total += len(data)
            outputs.append(Output(display_name(entry.name, "output"), data, _mime(data)))
        return outputs, notes

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _mime(data: bytes) -> str:
    if found := image_type(data):
        return found
    head = data[:65536]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) == len(data))
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "application/octet-stream" if b"\x00" in head else "text/plain"
