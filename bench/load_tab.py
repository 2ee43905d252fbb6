"""One browser tab without a browser: the page over HTTP, then NiceGUI's socket.io over a real WebSocket.

A tab does what Chromium does with the page: GET it (as one person: X-EMAIL-USER, believed in test mode),
read the client id from the page's socket.io options, connect to `/_nicegui_ws/socket.io` with NiceGUI's
query (implicit handshake), acknowledge what it received (as nicegui.js does, so the server can drop its
replay history), and send a message as the input box's Enter listener does. Every message received is
searched for the scripted model's self-identifying tokens ("r07 ", "t0042 "), and the first time each token
is seen is recorded (time.time(), the clock the scripted model stamps its writes with).

The client is python-socketio's (the same project as NiceGUI's server, so the protocol is right by
construction: engine.io ping/pong, packets, namespaces).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import httpx
import socketio

CLIENT_ID = re.compile(r"query: \{'client_id': '([0-9a-f-]+)', 'next_message_id': (\d+)")
ELEMENT = re.compile(r'"(\d+)":\{"tag"')
ENTER = re.compile(r'"listener_id":"([0-9a-f-]+)","type":"keydown"')
REPLY_ID = re.compile(r"\br(\d{2,4})\b")  # the first token of scripted reply 7 is "r07 "
TOKEN = re.compile(r"\bt(\d{4})\b")  # then "t0001 ", "t0002 ", … (a paragraph's last may end in "</p>")


@dataclass
class Tab:
    base_url: str
    email: str
    http: httpx.AsyncClient
    client_id: str = ""
    box_id: str = ""
    enter_listener: str = ""
    rid: int | None = None
    seen: dict[int, float] = field(default_factory=dict)  # token number -> first time it was received
    received: int = 0  # socket.io messages received
    expected: int = 0  # tokens after the first in the reply being waited for
    done: asyncio.Event = field(default_factory=asyncio.Event)
    sio: socketio.AsyncClient | None = None
    _next_message_id: int = 0

    async def open(self) -> None:
        page = await self.http.get(f"{self.base_url}/", headers={"X-EMAIL-USER": self.email})
        page.raise_for_status()
        html = page.text
        found = CLIENT_ID.search(html)
        marker = html.find('"data-testid":"chat-input"')
        if found is None or marker < 0:
            raise RuntimeError("the page has no socket.io options or no chat input")
        self.client_id, self._next_message_id = found.group(1), int(found.group(2))
        self.box_id = ELEMENT.findall(html, 0, marker)[-1]
        enter = ENTER.search(html, marker)
        assert enter is not None, "the chat input has no Enter listener"
        self.enter_listener = enter.group(1)
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("*", self._received)
        query = (f"client_id={self.client_id}&next_message_id={self._next_message_id}&implicit_handshake=true"
                 f"&document_id={uuid.uuid4()}&tab_id={uuid.uuid4()}")
        await self.sio.connect(f"{self.base_url}/?{query}", socketio_path="/_nicegui_ws/socket.io",
                               transports=["websocket"], wait_timeout=30,
                               headers={"X-EMAIL-USER": self.email, "Origin": self.base_url})

    async def _received(self, event: str, data: object = None) -> None:
        now = time.time()
        self.received += 1
        if isinstance(data, dict) and "_id" in data:
            self._next_message_id = int(data["_id"]) + 1
        text = json.dumps(data) if event in ("gc_text", "update") else ""
        if self.rid is None and (reply := REPLY_ID.search(text)):
            self.rid = int(reply.group(1))
        for number in TOKEN.findall(text):
            self.seen.setdefault(int(number), now)
        if self.expected and len(self.seen) >= self.expected:
            self.done.set()

    async def ack(self) -> None:
        if self.sio is not None and self.sio.connected:
            await self.sio.emit("ack", {"client_id": self.client_id, "next_message_id": self._next_message_id})

    async def send(self, text: str, expected: int) -> None:
        """The message as the input box's Enter listener sends it (the browser took the text out of the box);
        `done` is set once `expected` tokens after the first were received."""
        assert self.sio is not None
        self.rid, self.seen, self.expected = None, {}, expected
        self.done.clear()
        await self.sio.emit("event", {"id": int(self.box_id), "client_id": self.client_id,
                                      "listener_id": self.enter_listener, "args": [json.dumps(text)]})

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()
