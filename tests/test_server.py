"""`vmbackup serve`'s server ends open event streams when asked to stop; worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket

import httpx
import pytest
import uvicorn

from app.cli import main
from app.core.scopes import Scope
from app.server import Server
from tests.conftest import AppFactory
from tests.support.tokens import auth


async def test_stopping_the_server_ends_open_event_streams(app_factory: AppFactory) -> None:
    async with app_factory(events_heartbeat_seconds=60) as (app, _client):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        server = Server(uvicorn.Config(app, lifespan="off", log_level="warning"), app)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        try:
            # Bounds with room for a host busy with the other test workers (a 5 s read timed out).
            async with asyncio.timeout(30), httpx.AsyncClient(base_url=url, timeout=30) as http, \
                    http.stream("GET", "/events", headers=auth(Scope.READ)) as response:
                lines = response.aiter_lines()
                assert await anext(lines) == "retry: 2000"
                server.handle_exit(signal.SIGTERM, None)
                # The stream ends (no heartbeat for a minute, no event): the server can stop.
                rest = [line async for line in lines]
                assert rest == [""]
                await asyncio.wait_for(serving, 5)
        finally:
            server.should_exit = server.force_exit = True
            await asyncio.wait_for(serving, 10)
            sock.close()


def test_serve_with_workers_refuses_the_sandbox(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Each worker would start its own emulator and demo world: refused before any starts.
    monkeypatch.setenv("VMBACKUP_SANDBOX", "true")
    assert main(["serve", "--port", "0", "--workers", "2"]) == 2
    assert "the sandbox runs in one process" in capsys.readouterr().err
