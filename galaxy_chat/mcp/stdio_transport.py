"""stdio transport for MCP servers we start: the child runs in its own process group, which dies with it.

Why not the SDK's `stdio_client`: it kills the child's process group only when the child outlives a grace
period after stdin closes, so a server that exits promptly leaves its grandchildren running (an `npx` wrapper's
node process, a helper daemon). Here the whole group is SIGKILLed after every shutdown. The child's stderr goes to
our log (with the server's id) and its last lines are kept for the failure reason; junk on stdout is logged and
skipped; one message over MAX_LINE_BYTES ends the connection instead of growing memory without bound.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import anyio
import mcp.types as types
from anyio.abc import Process
from mcp.client.stdio import get_default_environment
from mcp.shared.message import SessionMessage

from galaxy_chat.mcp.server_config import McpServerConfig

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 64 * 1024 * 1024
STDERR_TAIL_LINES = 12
GRACE_S = 1.0  # after stdin closes, before SIGTERM to the group
TERM_GRACE_S = 1.0  # after SIGTERM, before SIGKILL
_GARBAGE_LOGGED = 3


class StdioProcess:
    """What the owner of a connection may want to know about the child: pid, exit code, stderr tail."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self.pid: int | None = None
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.garbage_lines = 0
        self.ended = anyio.Event()  # stdout closed: the connection is over
        self.end_reason = ""
        self._process: Process | None = None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def describe_end(self) -> str:
        """Why the connection ended, with the exit code and the last stderr line when known."""
        parts = [self.end_reason or "the server closed its output"]
        if self.returncode is not None:
            parts.append(f"exit code {self.returncode}")
        if self.stderr_tail:
            parts.append(f"stderr: {self.stderr_tail[-1]}")
        return "; ".join(parts)


@asynccontextmanager
async def stdio_transport(
    config: McpServerConfig, process_info: StdioProcess
) -> AsyncIterator[tuple[anyio.abc.ObjectReceiveStream[SessionMessage | Exception],
                         anyio.abc.ObjectSendStream[SessionMessage]]]:
    """Start `config.command` as the leader of a new process group and speak JSON-RPC lines with it."""
    assert config.command is not None
    env = get_default_environment() | config.env
    process = await anyio.open_process(
        [config.command, *config.args], env=env, cwd=config.cwd, start_new_session=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    process_info.pid = process.pid
    process_info._process = process
    log.info("mcp %s: started %s (pid %d)", config.id, config.command, process.pid)
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)

    async def read_stdout() -> None:
        assert process.stdout is not None
        pending: list[bytes] = []
        size = 0
        try:
            async with read_writer:
                while True:
                    try:
                        chunk = await process.stdout.receive(1 << 16)
                    except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                        break
                    start = 0
                    while (end := chunk.find(b"\n", start)) != -1:
                        # Joining only at a newline keeps a 10 MB message linear, not quadratic, in its size.
                        line = b"".join([*pending, chunk[start:end]]) if pending else chunk[start:end]
                        pending, size, start = [], 0, end + 1
                        message = _parse(line, process_info)
                        if message is not None:
                            await read_writer.send(message)
                    if start < len(chunk):
                        pending.append(chunk[start:])
                        size += len(chunk) - start
                        if size > MAX_LINE_BYTES:
                            process_info.end_reason = f"a message over {MAX_LINE_BYTES // 2**20} MiB"
                            log.warning("mcp %s: %s; closing the connection", config.id, process_info.end_reason)
                            return
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # our side closed first: shutting down
        finally:
            process_info.ended.set()

    async def read_stderr() -> None:
        assert process.stderr is not None
        buffer = b""
        with suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            while True:
                buffer += await process.stderr.receive(1 << 14)
                *lines, buffer = buffer.split(b"\n")
                buffer = buffer[-4096:]  # a server printing one endless line must not grow this
                for raw in lines:
                    text = raw.decode("utf-8", "replace").rstrip()[:300]
                    if text:
                        process_info.stderr_tail.append(text)
                        log.debug("mcp %s stderr: %s", config.id, text)

    async def write_stdin() -> None:
        assert process.stdin is not None
        try:
            async with write_reader:
                async for session_message in write_reader:
                    data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await process.stdin.send(data.encode() + b"\n")
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            await read_writer.aclose()  # the child stopped reading: let pending requests fail now

    async with anyio.create_task_group() as group:
        group.start_soon(read_stdout)
        group.start_soon(read_stderr)
        group.start_soon(write_stdin)
        try:
            yield read_stream, write_stream
        finally:
            with anyio.CancelScope(shield=True):
                await write_stream.aclose()
                await _stop(process, config.id)
                await read_stream.aclose()
            group.cancel_scope.cancel()


def _parse(line: bytes, process_info: StdioProcess) -> SessionMessage | None:
    if not line.strip():
        return None
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError:
        process_info.garbage_lines += 1
        if process_info.garbage_lines <= _GARBAGE_LOGGED:
            log.warning("mcp %s: skipped a stdout line that is not JSON-RPC: %r", process_info.server_id, line[:120])
        return None


async def _stop(process: Process, server_id: str) -> None:
    """Close stdin, give the child a moment, then TERM and KILL its whole process group."""
    pgid = process.pid  # start_new_session made the child a group leader; its pid names the group
    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        assert process.stdin is not None
        await process.stdin.aclose()
    if not await _exited(process, GRACE_S):
        _signal_group(pgid, signal.SIGTERM)
        if not await _exited(process, TERM_GRACE_S):
            log.warning("mcp %s: pid %d ignored SIGTERM; killing its group", server_id, pgid)
    # Always, even after a clean exit: grandchildren left in the group would otherwise outlive the server.
    _signal_group(pgid, signal.SIGKILL)
    if not await _exited(process, 2.0):
        log.warning("mcp %s: pid %d is still not reaped after SIGKILL", server_id, pgid)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await stream.aclose()
    log.info("mcp %s: pid %d stopped (exit code %s)", server_id, pgid, process.returncode)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _exited(process: Process, timeout: float) -> bool:
    # Poll returncode rather than wait(): wait() also waits for pipe EOF, which a grandchild can hold open.
    with anyio.move_on_after(timeout):
        while process.returncode is None:
            await anyio.sleep(0.01)
    return process.returncode is not None
