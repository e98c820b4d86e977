"""A `send` that remembers whether the response has started: until then a middleware may still
answer with a problem of its own; after, it can only let the error go."""

from __future__ import annotations

from starlette.types import Message, Send


class WatchedSend:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.has_started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.has_started = True
        await self._send(message)
