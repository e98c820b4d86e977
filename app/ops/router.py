"""Liveness, readiness and metrics. Unauthenticated by design: probes and scrapers call them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.core.metrics import REGISTRY
from app.ops import service
from app.ops.schemas import Health, Readiness

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
async def get_health() -> Health:
    """The process is alive. Does not touch the database or AWS."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def get_readiness(request: Request, response: Response) -> Readiness:
    """Ready to serve: database reachable and migrated, AWS endpoint reachable."""
    readiness = await service.check_readiness(request.app.state)
    if readiness.status != "ready":
        response.status_code = 503
    return readiness


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition"}},
)
async def get_metrics() -> Response:
    """Prometheus metrics: HTTP requests by route template and status, AWS calls, refreshes."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
