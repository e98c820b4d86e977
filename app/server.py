"""The uvicorn server of `vmbackup serve`: one process, or several worker processes sharing the
port (`--workers`), each with its own app (engine pool, response cache, refreshers; the
refresh leases keep them from doing a unit's work twice, as for replicas)."""

from __future__ import annotations

import argparse
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from app.core.config import InsecureConfiguration, Settings

# Worker processes are plain uvicorn servers, which wait for every response to end before they
# exit: an event stream is cut this long after the stop signal (its client reconnects, with
# Last-Event-ID). A single process ends its streams at once (Server below).
WORKER_GRACEFUL_SHUTDOWN_SECONDS = 5
# uvicorn's own access log is off: the request-context middleware logs each request once, with
# its request id. uvloop and httptools are used: uvicorn picks them when installed
# (uvicorn[standard]).
_OPTIONS: dict[str, Any] = {"log_config": None, "access_log": False}


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


def connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's settings from `vmbackup serve`'s options (app/cli.py)."""
    return {
        **_OPTIONS, "host": args.host, "port": args.port,
        "timeout_keep_alive": args.timeout_keep_alive,
        "limit_concurrency": args.limit_concurrency, "backlog": args.backlog,
        "h11_max_incomplete_event_size": args.max_header_bytes,
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown,
    }


def serve(args: argparse.Namespace) -> int:
    options = connection_options(args)
    if args.workers > 1:
        return _serve_workers(options, workers=args.workers)
    from app.core.runtime import tune_for_serving
    from app.main import create_app

    app = create_app()
    tune_for_serving()
    Server(uvicorn.Config(app, **options), app).run()
    return 0


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn imports this factory in each)."""
    from app.core.runtime import tune_for_serving
    from app.main import create_app

    app = create_app()
    tune_for_serving()
    return app


def _serve_workers(options: dict[str, Any], *, workers: int) -> int:
    settings = Settings()
    if settings.sandbox:
        # Each worker would start its own emulator and seed its own demo world.
        raise InsecureConfiguration("the sandbox runs in one process: drop --workers")
    settings.check_safe_to_serve()  # here, once, rather than in every worker
    options["timeout_graceful_shutdown"] = min(options["timeout_graceful_shutdown"],
                                               WORKER_GRACEFUL_SHUTDOWN_SECONDS)
    config = uvicorn.Config("app.server:worker_app", factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
    return 0
