"""How running backup and restore work moves bytes on the virtual clock.

Set-up first, then a steady throughput fixed when the work starts. While paused (its gateway or
hypervisor unavailable) it stands still; resuming shifts every later milestone by the pause, so it
picks up exactly where it stopped.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from emulator.backup.entities import RUNNING, Work


def begin(
    work: Work,
    gateway_arn: str,
    moment: datetime,
    *,
    overhead_seconds: float,
    throughput_bytes_per_second: float,
) -> None:
    work.state = RUNNING
    work.started_at = moment
    work.gateway_arn = gateway_arn
    work.throughput_bytes_per_second = throughput_bytes_per_second
    work.transfer_starts_at = moment + timedelta(seconds=overhead_seconds)
    # Whole seconds keep job times readable and exactly reproducible.
    work.finishes_at = work.transfer_starts_at + timedelta(
        seconds=math.ceil(work.total_bytes / throughput_bytes_per_second)
    )


def bytes_done(work: Work, moment: datetime) -> int:
    """How far the transfer has got by `moment`."""
    if work.transfer_starts_at is None:
        return 0
    elapsed = ((work.paused_at or moment) - work.transfer_starts_at).total_seconds()
    return max(0, min(work.total_bytes, int(elapsed * work.throughput_bytes_per_second)))


def pause(work: Work, moment: datetime) -> None:
    work.paused_at = work.paused_at or moment


def resume(work: Work, moment: datetime) -> datetime:
    """Continue a paused transfer; return its new finish time."""
    assert work.paused_at is not None
    assert work.transfer_starts_at is not None
    assert work.finishes_at is not None
    pause_length = moment - work.paused_at
    work.transfer_starts_at += pause_length
    work.finishes_at += pause_length
    work.paused_at = None
    return work.finishes_at
