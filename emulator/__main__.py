"""`python -m emulator --host 127.0.0.1 --port 4566 --scenario demo [--strict] [--speed F]
[--start-now]`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from emulator.emulator_state import EmulatorState
from emulator.server import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Local AWS Backup + Backup Gateway emulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--scenario", default="demo", help="empty | demo | scale:<N>")
    parser.add_argument(
        "--strict", action="store_true", help="validate every response (500 on a bug)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="run the virtual clock in real time, times this factor (default: manual clock)",
    )
    parser.add_argument(
        "--start-now",
        action="store_true",
        help="start the clock at the current time (default: 2026-01-05T09:00Z, as in the tests)",
    )
    parser.add_argument("--without-backup", action="store_true", help="serve Backup Gateway only")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    state = EmulatorState(
        args.scenario,
        strict=args.strict,
        realtime_speed=args.speed,
        with_backup=not args.without_backup,
        starts_now=args.start_now,
    )
    print(
        f"emulator: scenario {args.scenario}, {len(state.world.vms)} VMs, http://{args.host}:{args.port}"
    )
    uvicorn.run(
        create_app(state),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
