from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import State

from app.core.schema_version import current_revision, head_revision
from app.ops.schemas import Readiness, ReadinessCheck


async def check_readiness(state: State) -> Readiness:
    checks = [await _database(state), await _aws_endpoint(state),
              *await _assumed_roles(state)]
    status = "ready" if all(check.is_ok for check in checks) else "not_ready"
    return Readiness(status=status, checks=checks)


async def _database(state: State) -> ReadinessCheck:
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return ReadinessCheck(name="database", is_ok=False,
                              detail=f"unreachable: {type(exc).__name__}")
    current, head = await current_revision(state.engine), head_revision()
    if current != head:
        detail = f"schema at {current}, expected {head}: run `vmbackup migrate`"
        return ReadinessCheck(name="database", is_ok=False, detail=detail)
    return ReadinessCheck(name="database", is_ok=True, detail=f"migrated to {head}")


async def _assumed_roles(state: State) -> list[ReadinessCheck]:
    """Targets reached through STS: their AssumeRole works (botocore reuses the credentials
    until shortly before they expire, so this is not an STS call per probe)."""
    checks = []
    for clients in state.aws:
        if clients.assumed_role is None:
            continue
        error = await asyncio.to_thread(clients.assumed_role.check)
        checks.append(ReadinessCheck(
            name=f"aws-target:{clients.target}", is_ok=error is None,
            detail=error or f"assumed {clients.assumed_role.role_arn}"))
    return checks


async def _aws_endpoint(state: State) -> ReadinessCheck:
    # Any HTTP answer proves the endpoint is reachable; auth is not checked here (no AWS call).
    endpoint = state.aws.endpoint_for_probe()
    http: httpx.AsyncClient = state.http
    try:
        await http.get(endpoint, timeout=2.0)
    except httpx.HTTPError as exc:
        return ReadinessCheck(name="aws", is_ok=False,
                              detail=f"{endpoint} unreachable: {type(exc).__name__}")
    return ReadinessCheck(name="aws", is_ok=True, detail=f"{endpoint} reachable")
