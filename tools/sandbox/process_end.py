"""Ending a sandboxed run: its exit status as (signal, code), killing what it left, and cleaning up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal

from tools.sandbox.child_io import Child
from tools.sandbox.limits import PidsCgroup

log = logging.getLogger("tools.sandbox.python_sandbox")


def exit_status(returncode: int | None, via_bwrap: bool) -> tuple[int | None, int | None]:
    """(signal, exit status); bwrap reports a child killed by signal N as exit status 128 + N."""
    if returncode is None:
        return None, None
    if returncode < 0:
        return -returncode, None
    if via_bwrap and returncode > 128:
        return returncode - 128, None
    return None, returncode


def kill(process: Child | None, cgroup: PidsCgroup | None) -> None:
    if process is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if cgroup:
        cgroup.kill_all()


async def cleanup(process: Child | None, cgroup: PidsCgroup | None, workdir: str | None) -> None:
    if process is not None:
        process.transport.close()
        await asyncio.wait([process.protocol.exited], timeout=5)
        if process.returncode is None:
            log.warning("python sandbox: process %s did not exit after SIGKILL", process.pid)
    if cgroup:
        await cgroup.close()
    if workdir:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
