"""Resource limits of one sandboxed run: rlimits set in the child before exec, and a pids cgroup.

The kernel ignores RLIMIT_NPROC for root, so a fork bomb is contained by a per-run pids cgroup
(`pids.max`) whenever the cgroup file system is writable; without one, RLIMIT_NPROC is the only cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import resource
import signal
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MB = 1024 * 1024
_run_numbers = itertools.count(1)


@dataclass(frozen=True)
class Limits:
    """What one run may use. The defaults come from settings (see `PythonSandbox.from_settings`)."""

    memory_mb: int = 512  # RLIMIT_AS of every process
    cpu_s: int = 10  # RLIMIT_CPU of every process (SIGXCPU, then SIGKILL one second later)
    wall_s: float = 25.0  # wall clock of the whole run
    output_bytes: int = 64 * 1024  # kept per stream (stdout, stderr)
    disk_mb: int = 128  # tmpfs size (bwrap) or watched size of the working dir (fallback); also RLIMIT_FSIZE
    max_processes: int = 32  # pids.max of the run's cgroup (processes and threads)
    open_files: int = 256  # RLIMIT_NOFILE
    max_images: int = 4  # PNG files returned
    image_bytes: int = 4 * MB  # largest PNG returned
    figure_bytes: int = 8 * MB  # largest plotly JSON returned


def user_task_count(uid: int) -> int:
    """Tasks (threads count too) the kernel charges to `uid` for RLIMIT_NPROC."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count


def nproc_limit(limits: Limits) -> int:
    """RLIMIT_NPROC counts every task of the real uid, the app's own threads included (root: ignored)."""
    uid = os.getuid()
    return limits.max_processes if uid == 0 else user_task_count(uid) + limits.max_processes


def apply_rlimits(limits: Limits, nproc: int) -> None:
    """Runs in the child between fork and exec; inherited by everything it starts."""
    cpu = limits.cpu_s
    for which, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits.memory_mb * MB,) * 2),
        (resource.RLIMIT_FSIZE, (limits.disk_mb * MB,) * 2),
        (resource.RLIMIT_NPROC, (nproc, nproc)),
        (resource.RLIMIT_NOFILE, (limits.open_files,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.setrlimit(which, value)


def _pids_hierarchy() -> Path | None:
    """Our own cgroup in the hierarchy that has the pids controller (v1 `pids`, or v2 with pids delegated)."""
    mounts: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            fstype, options = fields[-3], fields[-1].split(",")
            if fstype == "cgroup" and "pids" in options:
                mounts["v1"] = Path(fields[4])
            elif fstype == "cgroup2":
                mounts.setdefault("v2", Path(fields[4]))
    own: dict[str, str] = {}
    with open("/proc/self/cgroup") as groups:
        for line in groups:
            number, controllers, path = line.rstrip("\n").split(":", 2)
            if "pids" in controllers.split(","):
                own["v1"] = path
            elif number == "0":
                own["v2"] = path
    if "v1" in mounts and "v1" in own:
        return mounts["v1"] / own["v1"].lstrip("/")
    if "v2" in mounts and "v2" in own:
        base = mounts["v2"] / own["v2"].lstrip("/")
        try:  # v2: only where pids is already enabled for children; we never change the hierarchy
            if "pids" in (base / "cgroup.subtree_control").read_text().split():
                return base
        except OSError:
            return None
    return None


class PidsCgroup:
    """A cgroup of one run: caps its processes and lets us kill every one of them afterwards."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.procs = str(path / "cgroup.procs")

    @staticmethod
    def available() -> str | None:
        """None when a pids cgroup can be made here, else why not."""
        try:
            group = PidsCgroup.create(1)
        except (OSError, ValueError) as exc:
            return f"cannot create a pids cgroup ({getattr(exc, 'strerror', None) or exc})"
        if group is None:
            return "no cgroup hierarchy with the pids controller is writable"
        group.remove()
        return None

    @staticmethod
    def create(max_pids: int) -> PidsCgroup | None:
        base = _pids_hierarchy()
        if base is None or not os.access(base, os.W_OK):
            return None
        path = base / f"galaxy-python-{os.getpid()}-{next(_run_numbers)}"
        path.mkdir()
        try:
            (path / "pids.max").write_text(str(max_pids))
        except OSError:
            path.rmdir()
            raise
        return PidsCgroup(path)

    def join_from_child(self) -> None:
        """In the child before exec: move this process in, so nothing it starts can escape the cap."""
        fd = os.open(self.procs, os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)

    def pids(self) -> list[int]:
        try:
            with open(self.procs) as procs:
                return [int(line) for line in procs if line.strip()]
        except OSError:
            return []

    def kill_all(self) -> None:
        """SIGKILL everything in the group; pids.max stops new forks, so a few passes empty it."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> bool:
        try:
            self.path.rmdir()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True

    async def close(self, timeout: float = 3.0) -> None:
        """Kill what is left and remove the group (the kernel frees it once the last task is reaped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.kill_all()
            if self.remove():
                return
            if loop.time() > deadline:
                log.warning("python sandbox: could not remove cgroup %s (still busy)", self.path)
                return
            await asyncio.sleep(0.02)
