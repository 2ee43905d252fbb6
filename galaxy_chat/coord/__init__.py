"""What replicas share: leases with fencing tokens, rate counting, notices and live-reply streams.

`coordinator_for(redis_url)` gives the in-process implementation for one replica (empty URL) or the Redis
one, which falls back to in-process per replica while Redis cannot be reached.
"""

from __future__ import annotations

from galaxy_chat.coord.local import LocalCoordinator
from galaxy_chat.coord.protocol import END_TYPES, Allowance, Coordinator, Lease, Record
from galaxy_chat.coord.redis_coordinator import RedisCoordinator

__all__ = ["END_TYPES", "Allowance", "Coordinator", "Lease", "LocalCoordinator", "Record", "RedisCoordinator",
           "coordinator_for"]


def coordinator_for(redis_url: str) -> Coordinator:
    return RedisCoordinator(redis_url) if redis_url.strip() else LocalCoordinator()
