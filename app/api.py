"""Every router of the service, in the order they appear in the API docs."""

from fastapi import APIRouter

from app.assignments.router import router as assignments_router
from app.audit.router import router as audit_router
from app.events.router import router as events_router
from app.gateways.router import router as gateways_router
from app.hypervisors.router import router as hypervisors_router
from app.jobs.router import router as jobs_router
from app.jobs.router import vm_backups_router
from app.mappings.router import router as mappings_router
from app.ops.router import router as ops_router
from app.plans.router import router as plans_router
from app.reports.router import router as reports_router
from app.restores.router import router as restores_router
from app.restores.router import vm_recovery_points_router
from app.sync.router import router as sync_router
from app.vms.router import router as vms_router
from app.webhooks.router import router as webhooks_router

ROUTERS: list[APIRouter] = [
    ops_router,
    hypervisors_router,
    gateways_router,
    vms_router,
    vm_backups_router,
    jobs_router,
    vm_recovery_points_router,
    restores_router,
    sync_router,
    mappings_router,
    plans_router,
    assignments_router,
    reports_router,
    audit_router,
    events_router,
    webhooks_router,
]
