"""The application factory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from app.api import ROUTERS
from app.audit.recorder import AuditMiddleware
from app.aws.clients import build_clients
from app.core.auth import Authenticator
from app.core.authentication import AuthenticationMiddleware
from app.core.body_limit import BodyLimitMiddleware
from app.core.config import Settings
from app.core.data_version import DataVersionPoller, Generation
from app.core.db import build_engine, build_read_sessionmaker, build_sessionmaker
from app.core.error_handlers import UnhandledErrorMiddleware, install_error_handlers
from app.core.errors import PROBLEM_MEDIA_TYPE
from app.core.idempotency import IdempotencyMiddleware
from app.core.logging import configure_logging
from app.core.openapi_links import add_links
from app.core.request_context import RequestContextMiddleware
from app.core.response_cache import ResponseCache
from app.events.tail import EventTail
from app.sandbox import Sandbox, announce, start_sandbox
from app.sync.context import SyncContext
from app.sync.scheduler import Refresher
from app.webhooks.worker import DeliveryWorker

API_VERSION = "0.1.0"
DOCS_ASSETS_URL = "/docs-assets"


def _operation_id(route: APIRoute) -> str:
    # Stable, readable operationIds (`list_vms`): the route function's name.
    return route.name


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    sandbox: Sandbox | None = None
    extra_keys = []
    if settings.sandbox:
        sandbox, settings = start_sandbox(settings)
        extra_keys.append(sandbox.admin_key)
        app.state.settings = settings
    engine = build_engine(settings)
    app.state.engine = engine
    generation = Generation()
    app.state.sessionmaker = build_sessionmaker(engine, generation)
    app.state.read_sessionmaker = build_read_sessionmaker(engine, generation)
    app.state.response_cache = ResponseCache(
        settings.response_cache_entries, int(settings.response_cache_max_megabytes * 2**20),
        generation)
    app.state.data_version_poller = DataVersionPoller(
        engine, generation, settings.response_cache_poll_seconds)
    if app.state.response_cache.is_enabled:
        app.state.data_version_poller.start()
    app.state.authenticator = Authenticator(settings, extra_keys=extra_keys)
    app.state.aws = build_clients(settings)
    app.state.http = httpx.AsyncClient()
    app.state.refresher = Refresher(SyncContext(settings, app.state.sessionmaker, app.state.aws))
    app.state.refresher.start()
    # Started by the first GET /events: one reader of the outbox for all of this replica's streams.
    app.state.event_tail = EventTail(app.state.read_sessionmaker, settings.events_poll_seconds)
    app.state.webhook_worker = DeliveryWorker(settings, app.state.sessionmaker, app.state.http,
                                              app.state.refresher.ctx.runner_id)
    app.state.webhook_worker.start()
    if sandbox is not None:
        announce(sandbox, os.environ.get("VMBACKUP_PUBLIC_URL", "http://127.0.0.1:8000"))
    try:
        yield
    finally:
        await app.state.webhook_worker.stop()
        await app.state.event_tail.stop()
        await app.state.refresher.stop()
        await app.state.data_version_poller.stop()
        await app.state.http.aclose()
        await engine.dispose()
        if sandbox is not None:
            sandbox.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    settings.check_safe_to_serve()
    # FastAPIOffline: /docs (Swagger UI) and /redoc load their scripts from DOCS_ASSETS_URL,
    # files of the installed fastapi-offline package, not from a CDN.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS_URL,
        title="vmbackup",
        version=API_VERSION,
        summary="AWS Backup for VMware virtual machines, behind one REST API.",
        lifespan=_lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Added innermost first: the request context wraps everything, so even errors get an id;
    # the body limit holds whoever reads the body; authentication comes before the idempotency
    # layer and the route read the body, and the audit log sees its principal.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(AuthenticationMiddleware, fastapi_app=app)
    app.add_middleware(AuditMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    _register_problem_schema(app)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            _errors_as_problem_json(schema)
            add_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _errors_as_problem_json(schema: dict[str, object]) -> None:
    """Error responses are documented with the media type they are really sent with."""
    paths = schema.get("paths", {})
    assert isinstance(paths, dict)
    for operations in paths.values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if not (status.isdigit() and int(status) >= 400):
                    continue
                # A route's own media type (JSON, or GET /events' event stream) is not what its
                # errors are sent as.
                for media_type in ("application/json", "text/event-stream"):
                    if media_type in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop(media_type)
