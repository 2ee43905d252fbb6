"""Runs untrusted Python in a separate, limited process: bubblewrap when it works, else Landlock, else nothing.

The mode is chosen once, at start-up, by running a trivial sandboxed command (`PYTHON_SANDBOX=auto`), or
forced (`bwrap`, `landlock`, `none`). `none` runs only with ALLOW_UNSANDBOXED_CODE=true; a forced mode that
does not work here disables the tool instead of silently weakening it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from galaxy_chat.observability import metrics
from tools.sandbox import runner as sandbox_runner
from tools.sandbox.bwrap import SANDBOX_ENV, Bwrap
from tools.sandbox.child_io import Capture, Child, Report, drain, feed_stdin, parse_report, read_fd, spawn, tree_size
from tools.sandbox.landlock import LandlockPlan, PreparedRuleset, landlock_abi
from tools.sandbox.limits import MB, Limits, PidsCgroup, apply_rlimits, nproc_limit
from tools.sandbox.paths import PythonInstall, python_install
from tools.sandbox.process_end import cleanup, exit_status, kill
from tools.sandbox.run_files import Output, RunDir, RunFiles

log = logging.getLogger(__name__)

Mode = Literal["auto", "bwrap", "landlock", "none"]
RUNNER_SOURCE = Path(sandbox_runner.__file__).read_text()
MAX_PARALLEL = 2  # runs at once per app: each may use memory_mb times max_processes
_probes: dict[tuple[object, ...], str | None] = {}


class SandboxUnavailable(Exception):
    """The sandbox cannot run code here; the message says why and what to do."""


@dataclass
class RunOutcome:
    stdout: str
    stderr: str
    exit_code: int | None  # None when the run was killed by a signal
    signal: int | None
    timed_out: bool
    seconds: float
    report: Report = field(default_factory=Report)
    notes: list[str] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)  # files the code wrote to out/ (with RunFiles)


def _cached_probe(key: tuple[object, ...], probe: Callable[[], str | None]) -> str | None:
    if key not in _probes:
        _probes[key] = probe()
    return _probes[key]


class PythonSandbox:
    """One per app. `active` is the mode in force ("bwrap", "landlock", "none") or None (disabled)."""

    def __init__(self, limits: Limits, mode: Mode = "auto", allow_unsandboxed: bool = False,
                 hidden: list[Path] | None = None, net_namespace: bool = True) -> None:
        self.limits = limits
        self.mode = mode
        self.install: PythonInstall = python_install()
        self.hidden = [path.resolve() for path in (hidden if hidden is not None else [Path.cwd()])]
        self.bwrap: Bwrap | None = None
        self.plan: LandlockPlan | None = None
        self.active: Literal["bwrap", "landlock", "none"] | None = None
        self.reasons: list[str] = []
        self.last_cgroup: Path | None = None  # the latest run's cgroup (tests check it is gone afterwards)
        self._slots = asyncio.Semaphore(MAX_PARALLEL)
        if mode in ("auto", "bwrap") and self._try_bwrap():
            self.active = "bwrap"
        elif mode in ("auto", "landlock") and self._try_landlock(net_namespace):
            self.active = "landlock"
        elif mode in ("auto", "none") and allow_unsandboxed:
            self.active = "none"
        self.cgroup_problem = PidsCgroup.available()

    @property
    def reduced_isolation(self) -> bool:
        return self.active != "bwrap"

    def _try_bwrap(self) -> bool:
        self.bwrap = Bwrap.find()
        if self.bwrap is None:
            self.reasons.append("bubblewrap (bwrap) is not installed")
            return False
        bwrap, install, hidden = self.bwrap, self.install, self.hidden
        problem = _cached_probe(("bwrap", bwrap, tuple(install.mounts), tuple(hidden)),
                                lambda: bwrap.probe(install, hidden))
        if problem:
            self.reasons.append(problem)
        return problem is None

    def _try_landlock(self, net_namespace: bool) -> bool:
        exposed = self.install.exposing(self.hidden)
        if exposed:
            path, mount = exposed[0]
            self.reasons.append(f"Landlock cannot hide {path}: it lies inside {mount.source}")
            return False
        if landlock_abi() < 1:
            self.reasons.append("Landlock is not available in this kernel")
            return False
        for netns in (True, False) if net_namespace else (False,):
            plan = LandlockPlan(self.install.read_paths(), [], net_namespace=netns)
            problem = _cached_probe(("landlock", netns, tuple(plan.read)), lambda plan=plan: self._probe_landlock(plan))
            if problem is None and not netns and plan.abi < 4:
                problem = f"Landlock ABI {plan.abi} cannot block TCP and no network namespace can be made"
            elif problem is None:
                self.plan = plan
                return True
        self.reasons.append(f"Landlock fails here: {problem}")
        return False

    def _probe_landlock(self, plan: LandlockPlan) -> str | None:
        check = "import os\ntry:\n os.listdir('/')\nexcept PermissionError:\n pass\nelse:\n raise SystemExit(3)"
        try:  # the listing must fail: proves the allow-list is in force
            ruleset = plan.build()
        except OSError as exc:
            return str(exc)
        try:
            done = subprocess.run([self.install.interpreter_host, "-I", "-B", "-c", check], capture_output=True,
                                  text=True, timeout=20, env={}, preexec_fn=ruleset.enter, cwd="/")
        except (OSError, subprocess.SubprocessError) as exc:
            return str(exc)
        finally:
            ruleset.close()
        return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["probe failed"])[-1]

    @property
    def label(self) -> str:
        """A few words for each result: which sandbox ran the code."""
        return {"bwrap": "bubblewrap", "landlock": "Landlock fallback, reduced isolation",
                "none": "none, unsandboxed"}.get(self.active or "", "disabled")

    def describe(self) -> str:
        """One sentence on the isolation in force, for logs, /ready and the model."""
        if self.active == "bwrap":
            return "bubblewrap (namespaces, no network, read-only Python install only)"
        if self.active == "landlock" and self.plan:
            return ", ".join(self.plan.layers())
        return "no isolation (ALLOW_UNSANDBOXED_CODE=true)" if self.active == "none" else "disabled"

    def startup_warning(self) -> str | None:
        why = "; ".join(self.reasons)
        if self.active is None and self.mode == "none":
            return "The python tool is disabled: PYTHON_SANDBOX=none needs ALLOW_UNSANDBOXED_CODE=true."
        if self.active is None and self.mode != "auto":
            return f"The python tool is disabled: PYTHON_SANDBOX={self.mode} does not work here ({why})."
        if self.active is None:
            return (f"The python tool is disabled: no sandbox works here ({why}). Install bubblewrap, or set "
                    "ALLOW_UNSANDBOXED_CODE=true to run code without isolation.")
        if self.active == "landlock":
            because = why or "PYTHON_SANDBOX=landlock"
            return f"The python tool runs with reduced isolation ({self.describe()}) because {because}."
        if self.active == "none":
            return ("The python tool runs code WITHOUT a sandbox (ALLOW_UNSANDBOXED_CODE=true): it can read the "
                    f"app's files and reach its network. {why}".strip())
        if self.cgroup_problem and os.getuid() == 0:
            return (f"The python tool runs as root without a pids cgroup ({self.cgroup_problem}): the kernel ignores "
                    "RLIMIT_NPROC for root, so a fork bomb is stopped only by the time limits.")
        return None

    async def run(self, code: str, files: RunFiles | None = None) -> RunOutcome:
        """Run `code`; with `files`, it sees them in data/ (read-only) and what it writes to out/ comes back."""
        if self.active is None:
            raise SandboxUnavailable(self.startup_warning() or "the sandbox is disabled")
        metrics.SANDBOX_RUNS.labels(self.active).inc()
        async with self._slots:
            run_dir = await asyncio.to_thread(RunDir.make, files) if files is not None else None
            try:
                return await self._run(code, run_dir)
            finally:
                if run_dir:
                    await asyncio.to_thread(run_dir.remove)

    def _command(self, report_fd: int, files: RunDir | None) -> tuple[list[str], dict[str, str], str | None]:
        limits = self.limits
        config = [str(value) for value in (report_fd, limits.max_images, limits.image_bytes, limits.figure_bytes)]
        if self.active == "bwrap" and self.bwrap:
            inner = [self.install.interpreter_inside, "-I", "-B", "-c", RUNNER_SOURCE, *config]
            return self.bwrap.argv(self.install, self.limits, self.hidden, inner, files), {}, None
        workdir = tempfile.mkdtemp(prefix="galaxy-python-")
        if files is not None:  # no mount namespace here: the code finds them as ./data and ./out
            os.symlink(files.data, os.path.join(workdir, "data"))
            os.symlink(files.out, os.path.join(workdir, "out"))
        env = {**SANDBOX_ENV, "PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "MPLCONFIGDIR": workdir}
        return [self.install.interpreter_host, "-I", "-B", "-c", RUNNER_SOURCE, *config], env, workdir

    async def _run(self, code: str, files: RunDir | None) -> RunOutcome:
        began = time.monotonic()
        nproc = await asyncio.to_thread(nproc_limit, self.limits)
        report_read, report_write = os.pipe()
        cgroup: PidsCgroup | None = None
        workdir: str | None = None
        ruleset: PreparedRuleset | None = None
        process: Child | None = None
        try:
            cgroup = PidsCgroup.create(self.limits.max_processes) if self.cgroup_problem is None else None
            self.last_cgroup = cgroup.path if cgroup else None
            argv, env, workdir = self._command(report_write, files)
            if self.active == "landlock" and self.plan and workdir:
                ruleset = LandlockPlan([*self.plan.read, *([files.data] if files else [])],
                                       [Path(workdir), *([files.out] if files else [])],
                                       net_namespace=self.plan.net_namespace, abi=self.plan.abi).build()

            def preexec() -> None:  # in the child, between fork and exec
                if cgroup:
                    cgroup.join_from_child()
                if ruleset:
                    ruleset.enter()
                apply_rlimits(self.limits, nproc)

            process = await spawn(argv, env=env, cwd=workdir or "/", pass_fds=(report_write,),
                                  start_new_session=True, preexec_fn=preexec)
        except BaseException:
            os.close(report_read)
            raise
        finally:
            os.close(report_write)
            if ruleset:
                ruleset.close()
            if process is None:
                await cleanup(None, cgroup, workdir)
        try:
            return await self._supervise(process, cgroup, code, report_read, workdir, began, files)
        finally:
            kill(process, cgroup)  # nothing outlives a call, also when the registry cancels it
            await cleanup(process, cgroup, workdir)

    async def _supervise(self, process: Child, cgroup: PidsCgroup | None, code: str,
                         report_fd: int, workdir: str | None, began: float, files: RunDir | None) -> RunOutcome:
        out, err, report = (Capture(self.limits.output_bytes), Capture(self.limits.output_bytes),
                            Capture(self.limits.figure_bytes + self.limits.max_images * self.limits.image_bytes * 2))
        streams = process.protocol
        readers = [asyncio.ensure_future(task) for task in (drain(streams.stdout, out), drain(streams.stderr, err),
                                                            read_fd(report_fd, report))]
        feeder = asyncio.ensure_future(feed_stdin(streams.stdin, code.encode()))
        notes: list[str] = []
        watched = [Path(folder) for folder in (workdir, files and files.out) if folder]  # on the host disk
        watchdog = asyncio.ensure_future(self._watch_disk(watched, process, notes)) if watched else None
        try:
            await asyncio.wait([process.protocol.exited], timeout=self.limits.wall_s)
            timed_out = process.returncode is None
        finally:
            kill(process, cgroup)  # leftovers of the code: also closes their ends of the pipes
            for task in (feeder, watchdog):
                if task:
                    task.cancel()
            _, pending = await asyncio.wait(readers, timeout=2)
            for task in pending:
                task.cancel()
            process.transport.close()  # our ends of the pipes too
            await asyncio.wait([process.protocol.exited], timeout=5)
        code_signal, exit_code = exit_status(process.returncode, self.active == "bwrap")
        if timed_out:
            code_signal, exit_code = signal.SIGKILL, None
        outputs, output_notes = await asyncio.to_thread(files.collect) if files else ([], [])
        return RunOutcome(out.text(), err.text(), exit_code, code_signal, timed_out, time.monotonic() - began,
                          parse_report(report, self.limits.max_images, self.limits.image_bytes),
                          notes + output_notes, outputs)

    async def _watch_disk(self, folders: list[Path], process: Child, notes: list[str]) -> None:
        """The fallback's working dir and out/ are on the host disk: stop the run once they hold more than
        disk_mb (bubblewrap's tmpfs has that cap of its own)."""
        while process.returncode is None:
            await asyncio.sleep(0.2)
            if sum([await asyncio.to_thread(tree_size, folder) for folder in folders]) > self.limits.disk_mb * MB:
                notes.append(f"stopped: the files it wrote grew over {self.limits.disk_mb} MB")
                kill(process, None)
                return
