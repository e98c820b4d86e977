"""`vmbackup` command line: serve, migrate, sync, openapi, create-api-key, emulator."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from app.core.config import InsecureConfiguration, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vmbackup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes sharing the port (each its own pool and caches)")
    add_connection_options(serve)

    commands.add_parser("migrate", help="upgrade the database schema to the latest revision")

    sync = commands.add_parser("sync", help="refresh the cache from AWS once, then exit")
    sync.add_argument("--hypervisor", action="append", dest="hypervisor_ids",
                      help="only this hypervisor id (repeatable); default all")

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=Path("openapi/openapi.json"))

    key = commands.add_parser("create-api-key", help="make an API key and print its config entry")
    key.add_argument("--name", required=True)
    key.add_argument("--scope", choices=["read", "operate", "admin"], default="read")

    emulator = commands.add_parser("emulator", help="run the AWS Backup emulator standalone")
    emulator.add_argument("args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    handlers = {"serve": _serve, "migrate": _migrate, "sync": _sync, "openapi": _openapi,
                "create-api-key": _create_api_key, "emulator": _emulator}
    try:
        return handlers[args.command](args)
    except InsecureConfiguration as exc:
        print(f"vmbackup: refusing to start: {exc}", file=sys.stderr)
        return 2


def add_connection_options(serve: argparse.ArgumentParser) -> None:
    """What uvicorn offers against slow or greedy clients (it has no timeout for reading a
    request: put a proxy in front for that)."""
    serve.add_argument("--timeout-keep-alive", type=int, default=5, metavar="SECONDS",
                       help="close a kept-alive connection idle this long (default 5)")
    serve.add_argument("--limit-concurrency", type=int, default=1000, metavar="N",
                       help="connections and requests at once before answering 503 "
                       "(default 1000; event streams count)")
    serve.add_argument("--backlog", type=int, default=2048, metavar="N",
                       help="connections waiting to be accepted (default 2048)")
    serve.add_argument("--max-header-bytes", type=int, default=16 * 1024, metavar="BYTES",
                       help="request line and headers buffered at most (default 16384)")
    serve.add_argument("--timeout-graceful-shutdown", type=int, default=30, metavar="SECONDS",
                       help="on SIGTERM, wait this long for requests to end (default 30)")


def _serve(args: argparse.Namespace) -> int:
    from app.server import serve

    os.environ.setdefault("VMBACKUP_PUBLIC_URL", f"http://{args.host}:{args.port}")
    return serve(args)


def _migrate(_args: argparse.Namespace) -> int:
    from app.migrate import upgrade_to_head

    settings = Settings()
    asyncio.run(upgrade_to_head(settings.database_url))
    print(f"database migrated: {settings.database_url.split('@')[-1]}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from app.sync.oneshot import refresh_once

    runs = asyncio.run(refresh_once(Settings(), args.hypervisor_ids))
    for run in runs:
        target = run.hypervisor_id or run.kind
        counts = (f"seen={run.jobs_seen} changed={run.jobs_changed}" if run.kind == "jobs" else
                  f"seen={run.vms_seen} new={run.vms_new} changed={run.vms_changed} "
                  f"tombstoned={run.vms_tombstoned}")
        print(f"{run.kind:<9} {target:<20} {run.status:<9} {counts}"
              + (f" error={run.error}" if run.error else ""))
    return 1 if any(run.status != "succeeded" for run in runs) else 0


def _openapi(args: argparse.Namespace) -> int:
    from app.openapi import render_openapi

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_openapi())
    print(f"wrote {args.output}")
    return 0


def _create_api_key(args: argparse.Namespace) -> int:
    from app.core.auth import hash_api_key, new_api_key

    key = new_api_key()
    entry = {"name": args.name, "sha256": hash_api_key(key), "scopes": [args.scope]}
    print(f"API key (shown once, give it to the client): {key}")
    print("Add this entry to VMBACKUP_API_KEYS (a JSON list):")
    print(json.dumps(entry))
    return 0


def _emulator(args: argparse.Namespace) -> int:
    from emulator.__main__ import main as emulator_main

    result: int = emulator_main(args.args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
