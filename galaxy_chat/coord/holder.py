"""`HeldLease`: a lease kept for as long as a piece of work runs, renewed in the background.

The work asks `lost` before a write that must be fenced; a holder that lost its lease (a newer token was
handed out, e.g. after this process stalled past the lease) stops renewing and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from galaxy_chat.coord.protocol import Coordinator, Lease

log = logging.getLogger(__name__)
REPLICA = f"{socket.gethostname()}:{os.getpid()}"  # the owner named in this process's leases


class HeldLease:
    def __init__(self, coordinator: Coordinator, lease: Lease) -> None:
        self.coordinator = coordinator
        self.lease: Lease | None = lease
        self._renewing = asyncio.create_task(self._renew(), name=f"lease-{lease.key}")

    @classmethod
    async def take(cls, coordinator: Coordinator, key: str, ttl_s: float) -> HeldLease | None:
        """The lease on `key`, renewed every third of `ttl_s`; None while another holds it."""
        lease = await coordinator.acquire(key, REPLICA, ttl_s)
        return cls(coordinator, lease) if lease is not None else None

    @property
    def lost(self) -> bool:
        return self.lease is None

    async def _renew(self) -> None:
        while self.lease is not None:
            await asyncio.sleep(self.lease.ttl_s / 3)
            key = self.lease.key
            try:
                self.lease = await self.coordinator.renew(self.lease)
            except Exception:  # a coordinator fault must not end the work; the next renewal tries again
                log.exception("renewing the lease on %s failed", key)
                continue
            if self.lease is None:
                log.warning("the lease on %s was lost (a newer holder has it)", key)

    async def release(self) -> None:
        self._renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._renewing
        if self.lease is not None:
            await self.coordinator.release(self.lease)
            self.lease = None
