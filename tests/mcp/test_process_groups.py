"""stdio servers die with their whole process group: on stop, on reconnect, and when they ignore SIGTERM."""

from __future__ import annotations

import asyncio

from tests.mcp.servers import alive, running, stdio_config


async def _gone(pid: int, within_s: float = 5.0) -> bool:
    for _ in range(int(within_s / 0.05)):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_stop_kills_the_server_and_its_grandchildren() -> None:
    async with running(stdio_config()) as mcp:
        server_pid = (await mcp.call("t", "pid")).structured["result"]
        # The grandchild ignores SIGTERM, and the server exits at once when its stdin closes, so only
        # killing the process group stops it.
        grandchild = (await mcp.call("t", "spawn_grandchild")).structured["result"]
        assert alive(server_pid) and alive(grandchild)
    assert await _gone(server_pid)
    assert await _gone(grandchild)


async def test_a_reconnect_leaves_nothing_of_the_old_server_running() -> None:
    async with running(stdio_config()) as mcp:
        server_pid = (await mcp.call("t", "pid")).structured["result"]
        grandchild = (await mcp.call("t", "spawn_grandchild")).structured["result"]
        assert (await mcp.call("t", "crash")).is_error
        new_pid = (await mcp.call("t", "pid")).structured["result"]
        assert new_pid != server_pid
        assert await _gone(server_pid) and await _gone(grandchild)
        assert alive(new_pid)
    assert await _gone(new_pid)
