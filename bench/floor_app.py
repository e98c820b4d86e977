"""The floor under a cache-miss `GET /vms` on PostgreSQL: the service's own SQL for the page,
sent through asyncpg and answered by a bare ASGI app under the same uvicorn (uvloop, httptools,
no access log), with the same JSON body. No framework, no middleware, no authentication, no
SQLAlchemy: what a request costs on this host before vmbackup adds anything.

`bench/vms_read_load.py --floor` serves it beside the service, on the same database, and loads
both with the same wrk script and URLs (only the URLs that script sends are understood:
`hypervisor_id`, `folder`, `sort` of `name` or `-name`, `include_deleted`, `limit=100`,
`cursor`).

    FLOOR_DATABASE_URL=postgresql://... python -m uvicorn --app-dir bench floor_app:app
"""

from __future__ import annotations

import base64
import json
import os
from itertools import product
from typing import Any
from urllib.parse import parse_qs

import asyncpg  # type: ignore[import-untyped]
from pydantic_core import to_json
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from app.core.pagination import PageParams, _encode_cursor
from app.vms.repository import VmFilter, listing
from app.vms.service import _VM_READ_FIELDS as FIELDS

LIMIT = 100
# Stand-ins for the request's values while the SQL is compiled; each marks its placeholder.
HYPERVISOR, FOLDER, AFTER_NAME, AFTER_ID = "\x01hypervisor", "\x01folder", "\x01name", "\x01id"
Shape = tuple[str, bool, bool]  # sort, include_deleted, has a cursor


def _compile(sort: str, include_deleted: bool, has_cursor: bool) -> tuple[str, list[Any]]:
    """The service's SELECT for this shape, and per placeholder a constant or a marker."""
    query = VmFilter(hypervisor_id=HYPERVISOR, folder=FOLDER, include_deleted=include_deleted)
    cursor = _encode_cursor(sort, AFTER_NAME, AFTER_ID) if has_cursor else None
    stmt = listing(query, PageParams(limit=LIMIT, cursor=cursor, sort=sort), FIELDS,
                   live_hypervisor=not include_deleted)
    compiled = stmt.compile(dialect=asyncpg_dialect.dialect())
    assert compiled.positiontup is not None
    return compiled.string, [compiled.params[name] for name in compiled.positiontup]


SHAPES: dict[Shape, tuple[str, list[Any]]] = {
    shape: _compile(*shape) for shape in product(("name", "-name"), (False, True), (False, True))}
_pool: Any = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/healthz":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    query = {name: values[0] for name, values in parse_qs(scope["query_string"].decode()).items()}
    sort, cursor = query.get("sort", "name"), query.get("cursor")
    values = {HYPERVISOR: query["hypervisor_id"], FOLDER: query["folder"]}
    if cursor is not None:
        _, values[AFTER_NAME], values[AFTER_ID] = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    sql, parameters = SHAPES[(sort, query.get("include_deleted") == "true", cursor is not None)]
    async with _pool.acquire() as connection:
        rows = await connection.fetch(sql, *[values.get(p, p) if isinstance(p, str) else p
                                             for p in parameters])
    items = [dict(zip(FIELDS, row, strict=True)) for row in rows[:LIMIT]]
    next_cursor = (_encode_cursor(sort, items[-1]["name"], items[-1]["id"])
                   if len(rows) > LIMIT else None)
    body = to_json({"items": items, "next_cursor": next_cursor})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"x-cache", b"miss")]})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("FLOOR_POOL_SIZE", "10"))
            _pool = await asyncpg.create_pool(os.environ["FLOOR_DATABASE_URL"],
                                              min_size=size, max_size=size)
            await send({"type": "lifespan.startup.complete"})
        else:
            await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
