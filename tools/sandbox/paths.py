"""Which host paths code in the sandbox may read: the Python install, the app's virtualenv, shared libraries.

Nothing else: no /etc, no /usr/bin (so no shell), never the app's checkout, `.env`, logs or data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

SYSTEM_DIRS = ("/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/share/zoneinfo")
TOP_LIB_DIRS = ("/lib", "/lib32", "/lib64", "/libx32")
VENV_INSIDE = "/venv"


@dataclass(frozen=True)
class Mount:
    source: Path  # on the host
    dest: str  # inside the bwrap sandbox (the fallback sees host paths)


@dataclass(frozen=True)
class PythonInstall:
    mounts: list[Mount]  # read-only
    symlinks: list[tuple[str, str]]  # (target, link) such as ("usr/lib", "/lib") on merged-/usr systems
    interpreter_inside: str  # what to exec under bwrap
    interpreter_host: str  # what to exec in the fallback

    def read_paths(self) -> list[Path]:
        return [mount.source for mount in self.mounts]

    def exposing(self, hidden: list[Path]) -> list[tuple[Path, Mount]]:
        """Each hidden path (app root, data, logs) that a mount would show, with that mount."""
        found = []
        for path in hidden:
            for mount in self.mounts:
                if path == mount.source or mount.source in path.parents:
                    found.append((path, mount))
        return found


def _existing(paths: list[str]) -> list[Path]:
    seen: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.exists() and not path.is_symlink() and path.resolve() not in seen:
            seen.append(path.resolve())
    return seen


def interpreter_links(executable: Path, venv: Path) -> list[tuple[str, str]]:
    """The links between the venv's `python` and the real binary outside the venv (e.g. /usr/bin/python3 ->
    python3.11): without them the venv's interpreter link would dangle inside the sandbox."""
    links: list[tuple[str, str]] = []
    path = executable
    for _ in range(10):  # a chain of links, never a loop
        if not path.is_symlink():
            break
        target = os.readlink(path)
        following = Path(os.path.normpath(path.parent / target))
        if venv not in following.parents and following.is_symlink():
            links.append((os.readlink(following), str(following)))
        path = following
    return links


def python_install() -> PythonInstall:
    """The interpreter running the app, its standard library and its virtualenv (sys.prefix)."""
    base = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix).absolute()
    real_interpreter = Path(os.path.realpath(sys.executable))
    mounts = [Mount(path, str(path)) for path in _existing(list(SYSTEM_DIRS))]
    symlinks: list[tuple[str, str]] = []
    for name in TOP_LIB_DIRS:
        path = Path(name)
        if path.is_symlink():
            symlinks.append((os.readlink(path), name))
        elif path.is_dir():
            mounts.append(Mount(path, name))
    if base == Path("/usr"):  # a distribution Python: its stdlib is in /usr/lib, bind only the binary
        mounts.append(Mount(real_interpreter, str(real_interpreter)))
        symlinks += interpreter_links(Path(sys.executable), venv)
    elif not any(base == mount.source or mount.source in base.parents for mount in mounts):
        mounts.append(Mount(base, str(base)))
    if venv.resolve() != base:
        mounts.append(Mount(venv, VENV_INSIDE))
        inside = f"{VENV_INSIDE}/bin/{Path(sys.executable).name}"
    else:
        inside = str(real_interpreter)
    return PythonInstall(mounts, symlinks, inside, sys.executable)


def site_packages() -> list[Path]:
    """The virtualenv's package folders (precompiled once, because the sandbox sees them read-only)."""
    import site

    return [Path(path) for path in site.getsitepackages() if Path(path).is_dir()]


_precompile_started: list[bool] = []


def precompile_bytecode(folders: list[Path]) -> None:
    """Compile the virtualenv's modules once per process, in a background thread: the sandbox cannot write
    .pyc files, and without them importing pandas or plotly inside takes seconds longer (a no-op for what
    is already compiled, e.g. with UV_COMPILE_BYTECODE=1). Skipped when the venv is not writable."""
    writable = [str(folder) for folder in folders if os.access(folder, os.W_OK)]
    if _precompile_started or not writable:
        return
    _precompile_started.append(True)
    command = [sys.executable, "-m", "compileall", "-q", "-j", "0", *writable]

    def compile_all() -> None:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                       env={"PATH": os.defpath}, check=False, timeout=1800, preexec_fn=lambda: os.nice(10))

    threading.Thread(target=compile_all, name="python-tool-compileall", daemon=True).start()
