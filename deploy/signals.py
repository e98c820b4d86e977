"""SIGTERM as an orderly exit, for the programs that own something to clean up (a topology's or
a benchmark's PostgreSQL database, the processes they started).

Python's default for SIGTERM ends the process at once: no ``finally`` clause, no ``with`` block's
exit runs, and the database is left behind. With this handler SIGTERM raises ``SystemExit(143)``
in the main thread instead, so the same cleanup as for Ctrl-C runs. A second SIGTERM during that
cleanup is ignored (SIGKILL still ends it).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# 128 + the signal's number: what a shell reports for a process SIGTERM ended.
EXIT_STATUS = 128 + signal.SIGTERM


class _ExitOnce:
    """The handler: the first SIGTERM raises SystemExit, later ones are ignored."""

    def __init__(self) -> None:
        self.has_fired = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.has_fired:
            return
        self.has_fired = True
        raise SystemExit(EXIT_STATUS)


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def exit_on_sigterm() -> None:
    """Install the handler for the rest of the process (kept if one is installed already).
    Signal handlers belong to the main thread: elsewhere this does nothing."""
    if _is_main_thread() and not isinstance(signal.getsignal(signal.SIGTERM), _ExitOnce):
        signal.signal(signal.SIGTERM, _ExitOnce())


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """The handler while the block runs; the previous handler afterwards."""
    if not _is_main_thread():
        yield
        return
    previous: Any = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _ExitOnce())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
