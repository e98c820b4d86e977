import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import AppFactory, base_settings


async def test_healthz_answers_without_auth(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_when_aws_endpoint_is_unreachable(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = {check["name"]: check for check in response.json()["checks"]}
    assert checks["database"]["is_ok"] is True
    assert checks["aws"]["is_ok"] is False


@pytest.fixture
def reachable_endpoint() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


async def test_readyz_is_ready_with_migrated_db_and_reachable_aws(
    app_factory: AppFactory, reachable_endpoint: str
) -> None:
    async with app_factory(aws_endpoint_url=reachable_endpoint) as (_, client):
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ready"


async def test_readyz_reports_an_unmigrated_database(
    reachable_endpoint: str, tmp_path: Path
) -> None:
    settings = base_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", aws_endpoint_url=reachable_endpoint
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    database = next(c for c in response.json()["checks"] if c["name"] == "database")
    assert "vmbackup migrate" in database["detail"]


async def test_metrics_are_labelled_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/no/such/page")
    text = (await client.get("/metrics")).text
    assert 'vmbackup_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/no/such/page" not in text
