"""`ThrowawayServer`: what the test servers (PostgreSQL, Redis) share: a temporary folder of their own,
stop() keeping it for a restart, cleanup() removing it, and `with` for start-and-clean-up."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Self


class ThrowawayServer:
    folder: Path | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.cleanup()
