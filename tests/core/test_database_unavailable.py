"""A database that is away is a 503 problem with Retry-After, not a 500 (tests/faults restarts a
real PostgreSQL; this checks the mapping on both databases)."""

from __future__ import annotations

import httpx
from sqlalchemy.exc import IntegrityError, OperationalError

from app.core.db import is_database_unavailable
from tests.conftest import AppFactory


def test_connection_failures_count_as_unavailable_and_statement_failures_do_not() -> None:
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))
    assert is_database_unavailable(refused)
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = ConnectionResetError()
    assert is_database_unavailable(wrapped)
    assert not is_database_unavailable(IntegrityError("INSERT", {}, ValueError("duplicate")))
    assert not is_database_unavailable(ValueError("a bug"))


async def test_a_lost_database_is_a_503_problem(app_factory: AppFactory) -> None:
    async with app_factory() as (app, _client):
        async def lost() -> None:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))

        async def bug() -> None:
            raise IntegrityError("INSERT", {}, ValueError("duplicate"))

        app.add_api_route("/test-lost-database", lost)
        app.add_api_route("/test-integrity", bug)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/test-lost-database")
            other = await client.get("/test-integrity")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["type"].endswith("/database-unavailable")
    assert other.status_code == 500
    assert other.json()["type"].endswith("/internal-error")
