"""Interpreter settings for a long-running service process (`vmbackup serve` only: tests and
one-shot commands keep Python's defaults)."""

from __future__ import annotations

import gc
import sys

# A refresh of 100,000 VMs allocates millions of short-lived objects: with the default
# threshold (700) the collector ran ~2,000 times per refresh, about 0.3 s (bench/README.md).
GC_THRESHOLDS = (50_000, 20, 20)
# boto3 parses pages in worker threads while the event loop serves requests and SQLite writes in
# its own thread: a thread waiting for the GIL gets it after 1 ms instead of 5.
SWITCH_INTERVAL_SECONDS = 0.001


def tune_for_serving() -> None:
    # Start-up objects (modules, routes, models) are never garbage: frozen, full collections no
    # longer walk them.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
