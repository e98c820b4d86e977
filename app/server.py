"""The uvicorn server of `vmbackup serve`."""

from __future__ import annotations

import argparse
from types import FrameType

import uvicorn
from fastapi import FastAPI


def server_config(app: FastAPI, args: argparse.Namespace) -> uvicorn.Config:
    """uvicorn's settings from `vmbackup serve`'s options (app/cli.py)."""
    return uvicorn.Config(
        app, host=args.host, port=args.port, log_config=None, access_log=False,
        timeout_keep_alive=args.timeout_keep_alive, limit_concurrency=args.limit_concurrency,
        backlog=args.backlog, h11_max_incomplete_event_size=args.max_header_bytes,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
    )


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
