"""A chat process for the kill -9 test: streams one reply through a HistoryWriter and prints each piece
(with the time it was handed over) until it is killed. Run: python -m tests.store.writer_child URL DATA_DIR"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from galaxy_chat.store.writer import HistoryWriter

OWNER = "ada@example.com"


async def main(database_url: str, data_dir: Path) -> None:
    writer = HistoryWriter(database_url, data_dir, lease_s=1.0)
    writer.start()
    cid = writer.conversation_created(OWNER, "killed-mid-reply-0001", title="A long story")
    writer.user_message(OWNER, cid, "Tell me a long story", model="m")
    reply = writer.reply_started(OWNER, cid, model="m")
    await writer.flush()
    print(json.dumps({"ready": reply.id}), flush=True)
    for i in range(100_000):
        reply.text(f"p{i:05d} ")
        print(json.dumps({"i": i, "t": time.time()}), flush=True)
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
