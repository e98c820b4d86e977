"""Run the emulator in-process: uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from emulator.emulator_state import EmulatorState
from emulator.server import create_app
from emulator.world import World

STARTUP_TIMEOUT_SECONDS = 10.0


class RunningEmulator:
    def __init__(
        self, state: EmulatorState, server: uvicorn.Server, thread: threading.Thread, url: str
    ):
        self.state = state
        self.url = url
        self._server = server
        self._thread = thread

    @property
    def world(self) -> World:
        """The current world (a reset or scenario load replaces it, so read it each time)."""
        return self.state.world

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_emulator(
    scenario: str = "demo",
    *,
    strict: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float | None = None,
    with_backup: bool = True,
    starts_now: bool = False,
) -> RunningEmulator:
    """Start serving and return once the port accepts connections. port=0 picks a free one.
    ``speed``: the clock follows the wall clock times this factor (None: moved by hand);
    ``starts_now``: the clock starts at the current time instead of the fixed test date."""
    state = EmulatorState(scenario, strict=strict, realtime_speed=speed, with_backup=with_backup,
                          starts_now=starts_now)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    bound_port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(state), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="emulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start; see the log above")
        time.sleep(0.005)
    return RunningEmulator(state, server, thread, f"http://{host}:{bound_port}")


start_in_process = start_emulator  # the name some callers use
