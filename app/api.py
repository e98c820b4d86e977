"""Every router of the service, in the order they appear in the API docs."""

from fastapi import APIRouter

from app.audit.router import router as audit_router
from app.ops.router import router as ops_router

ROUTERS: list[APIRouter] = [
    ops_router,
    audit_router,
]
