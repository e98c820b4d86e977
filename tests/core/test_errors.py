import httpx
import pytest

from app.core.errors import PROBLEM_BASE
from tests.support.probe_routes import mount_probe_routes
from tests.support.tokens import auth

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/thing"), 404, "not-found")
    assert "/no/such/thing" in str(body["detail"])


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_validation_error_names_the_failing_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit?since=yesterday&limit=0", headers=auth())
    body = assert_problem(response, 422, "validation-error")
    names = {param["name"] for param in body["invalid_params"]}  # type: ignore[attr-defined]
    assert names == {"query.since", "query.limit"}


@pytest.mark.parametrize(
    ("error_name", "status", "slug"),
    [
        ("BadRequest", 400, "bad-request"),
        ("Unauthenticated", 401, "unauthenticated"),
        ("Forbidden", 403, "forbidden"),
        ("NotFound", 404, "not-found"),
        ("Conflict", 409, "conflict"),
        ("PreconditionFailed", 412, "precondition-failed"),
        ("ValidationFailed", 422, "validation-error"),
        ("RateLimited", 429, "rate-limited"),
        ("ServiceUnavailable", 503, "service-unavailable"),
    ],
)
async def test_each_domain_error_renders_as_a_problem(
    app_and_client: tuple[object, httpx.AsyncClient], error_name: str, status: int, slug: str
) -> None:
    app, client = app_and_client
    mount_probe_routes(app)  # type: ignore[arg-type]
    body = assert_problem(await client.get(f"/_probe/raise/{error_name}"), status, slug)
    assert body["detail"] == f"probe {error_name}"


async def test_unexpected_error_is_a_500_without_internals(
    app_and_client: tuple[object, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    mount_probe_routes(app)  # type: ignore[arg-type]
    response = await client.get("/_probe/crash")
    assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text
    assert "Traceback" not in response.text


async def test_request_id_is_echoed_when_given_and_minted_otherwise(
    client: httpx.AsyncClient,
) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    minted = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert minted.headers["x-request-id"] != "bad id with spaces"
    assert len(minted.headers["x-request-id"]) == 32
