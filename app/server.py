"""The uvicorn server of `vmbackup serve`."""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI


class Server(uvicorn.Server):
    """uvicorn waits for every response to end before it exits, and an event stream
    (GET /events) never ends on its own: asked to stop, this server first ends the streams
    (their clients reconnect, to another replica, with Last-Event-ID)."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        tail = getattr(self._app.state, "event_tail", None)
        if tail is not None:
            tail.close_soon()
        super().handle_exit(sig, frame)
