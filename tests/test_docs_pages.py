"""/docs and /redoc work without internet: every asset they load is served by the service."""

from __future__ import annotations

import re

import httpx
import pytest

# Every URL an HTML page loads or links: src=, href=, spec-url= and Swagger UI's `url:` option.
_URL_ATTRIBUTE = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|\burl:\s*'([^']+)'""")


def _urls_in(html: str) -> list[str]:
    return [first or second for first, second in _URL_ATTRIBUTE.findall(html)]


@pytest.mark.parametrize(("page", "script"), [
    ("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
async def test_docs_page_loads_only_assets_the_service_serves(
        client: httpx.AsyncClient, page: str, script: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = _urls_in(response.text)
    assert any(url.endswith(script) for url in urls), urls
    assert "/openapi.json" in urls
    for url in urls:
        assert url.startswith("/"), f"{page} loads {url} remotely"
        assert not url.startswith("//"), f"{page} loads {url} remotely"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
