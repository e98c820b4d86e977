"""The committed contract: the OpenAPI document as `make openapi` writes it."""

import json

from app.core.config import Settings


def render_openapi() -> str:
    from app.main import create_app

    # A sandbox app without a lifespan run: the document depends only on the routes.
    app = create_app(Settings(sandbox=True, database_url="sqlite+aiosqlite://"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
