"""The bubblewrap command line: new namespaces of every kind, a read-only view of the Python install only."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.sandbox.limits import MB, Limits
from tools.sandbox.paths import PythonInstall
from tools.sandbox.run_files import RunDir

SANDBOX_UID = "65534"  # nobody: code never runs as root inside, even when the app does
WORKDIR = "/tmp"  # the size-capped tmpfs, also the working dir and HOME

SANDBOX_ENV = {
    "PATH": "/venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKDIR,
    "TMPDIR": WORKDIR,
    "LANG": "C.UTF-8",
    "USER": "nobody",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLCONFIGDIR": WORKDIR,
    # One thread per BLAS: extra threads count against pids.max and RLIMIT_AS.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Bwrap:
    path: str
    size_option: bool  # --size (0.5+): cap the tmpfs
    disable_userns: bool  # --disable-userns (0.8+): no nested user namespace to regain capabilities

    @staticmethod
    def find() -> Bwrap | None:
        path = shutil.which("bwrap")
        if path is None:
            return None
        try:
            help_text = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return Bwrap(path, "--size" in help_text, "--disable-userns" in help_text)

    def argv(self, install: PythonInstall, limits: Limits, hidden: list[Path], command: list[str],
             files: RunDir | None = None) -> list[str]:
        args = [self.path, "--unshare-all", "--unshare-user", "--uid", SANDBOX_UID, "--gid", SANDBOX_UID]
        if self.disable_userns:
            args.append("--disable-userns")
        args += ["--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
        for name, value in SANDBOX_ENV.items():
            args += ["--setenv", name, value]
        for mount in install.mounts:
            args += ["--ro-bind", str(mount.source), mount.dest]
        for target, link in install.symlinks:
            args += ["--symlink", target, link]
        for path, mount in install.exposing(hidden):  # an app folder inside a bound tree: cover it
            inside = mount.dest + str(path)[len(str(mount.source)):]
            is_file = path.is_file()
            args += ["--ro-bind", "/dev/null", inside] if is_file else ["--tmpfs", inside, "--remount-ro", inside]
        args += ["--proc", "/proc", "--dev", "/dev"]
        if files is not None:  # the chat's files, read-only, and a folder whose files come back
            args += ["--ro-bind", str(files.data), "/data", "--bind", str(files.out), "/out"]
        if self.size_option:
            args += ["--size", str(limits.disk_mb * MB)]
        args += ["--tmpfs", WORKDIR]
        if files is not None:
            args += ["--symlink", "/data", f"{WORKDIR}/data", "--symlink", "/out", f"{WORKDIR}/out"]
        args += ["--chdir", WORKDIR, "--remount-ro", "/", "--", *command]
        return args

    def probe(self, install: PythonInstall, hidden: list[Path]) -> str | None:
        """Run a trivial sandboxed command; None when it works, else the reason (bwrap's own message)."""
        command = [install.interpreter_inside, "-I", "-B", "-c", "import os; assert os.getuid() == 65534"]
        try:
            done = subprocess.run(self.argv(install, Limits(), hidden, command), capture_output=True, text=True,
                                  timeout=20, env={}, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bwrap could not be started ({exc})"
        if done.returncode == 0:
            return None
        message = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"bwrap fails here: {message}"
