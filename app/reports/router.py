from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.assignments.membership import keys_of
from app.aws.clients import TargetFilterDep
from app.core.auth import ReaderDep
from app.core.db import ReadSessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.pagination import PageDep
from app.hypervisors.errors import HypervisorNotFound
from app.reports.change_detection import change_detection_report
from app.reports.csv_output import csv_content, csv_response, wants_csv
from app.reports.drift import drift_report
from app.reports.protection import ProtectionQuery, protection_report
from app.reports.repository import VmScope
from app.reports.rpo import RpoQuery, rpo_report
from app.reports.schemas import (
    ChangeDetectionReport,
    ChangeDetectionRow,
    DriftKind,
    DriftReport,
    DriftRow,
    ProtectionListing,
    ProtectionReport,
    ProtectionRow,
    RpoReport,
    RpoRow,
    RpoStatus,
    UnprotectedReason,
)

router = APIRouter(prefix="/reports", tags=["reports"])
_ERRORS = error_responses(*COMMON_ERRORS, HypervisorNotFound)
HypervisorFilter = Annotated[str | None, Query(
    max_length=64, description="Only this hypervisor's VMs.")]


def _responses(row: Any) -> dict[int | str, dict[str, Any]]:
    return {**csv_content(row), **_ERRORS}


@router.get("/protection", response_model=ProtectionReport,
            responses=_responses(ProtectionRow))
async def get_protection_report(
    request: Request, session: ReadSessionDep, _principal: ReaderDep, page: PageDep,
    target: TargetFilterDep, hypervisor_id: HypervisorFilter = None,
    listing: Annotated[ProtectionListing, Query(
        description="What `items` lists: the unprotected VMs with their reason, or the VMs "
        "covered by more than one plan.")] = ProtectionListing.UNPROTECTED,
    reason: Annotated[list[UnprotectedReason] | None, Query(
        max_length=6, description="Only unprotected VMs with these reasons.")] = None,
    gateway_unseen_minutes: Annotated[int, Query(
        ge=1, le=10080, description="A gateway not seen for this long (on AWS's clock) makes "
        "its hypervisor's VMs `gateway_not_seen_recently`.")] = 60,
    folder_limit: Annotated[int, Query(
        ge=0, le=1000, description="Folders listed (most unprotected VMs first).")] = 100,
) -> Any:
    """Totals and per-hypervisor and per-folder counts of protected and unprotected VMs; a page
    of the unprotected VMs with their reason (or of those covered by more than one plan), sort
    `name` or `folder`. Read scope; `Accept: text/csv` for the page as CSV."""
    report = await protection_report(
        session=session, keys=keys_of(request.app.state.settings), page=page,
        query=ProtectionQuery(scope=VmScope(hypervisor_id, target), listing=listing, reasons=reason,
                              gateway_unseen_after=timedelta(minutes=gateway_unseen_minutes),
                              folder_limit=folder_limit))
    return _answer(request, report, ProtectionRow)


@router.get("/rpo", response_model=RpoReport, responses=_responses(RpoRow))
async def get_rpo_report(
    request: Request, session: ReadSessionDep, _principal: ReaderDep, page: PageDep,
    target: TargetFilterDep, hypervisor_id: HypervisorFilter = None,
    target_hours: Annotated[float | None, Query(
        gt=0, le=8784, description="The target for every live VM, instead of each covering "
        "plan's (its most frequent rule's longest gap between runs, times 1.5).")] = None,
    status: Annotated[list[RpoStatus] | None, Query(
        max_length=3, description="Default: `never_backed_up` and `breached`.")] = None,
) -> Any:
    """Per VM, the age of its last COMPLETED backup against its target: never backed up
    first, then the oldest. Read scope; `Accept: text/csv` for the page as CSV."""
    report = await rpo_report(session=session, page=page, query=RpoQuery(
        scope=VmScope(hypervisor_id, target),
        target=None if target_hours is None else timedelta(hours=target_hours),
        statuses=status or [RpoStatus.NEVER_BACKED_UP, RpoStatus.BREACHED]))
    return _answer(request, report, RpoRow)


@router.get("/change-detection", response_model=ChangeDetectionReport,
            responses=_responses(ChangeDetectionRow))
async def get_change_detection_report(
    request: Request, session: ReadSessionDep, _principal: ReaderDep, page: PageDep,
    target: TargetFilterDep, hypervisor_id: HypervisorFilter = None,
    last_backups: Annotated[int, Query(
        ge=1, le=20, description="How many of each VM's latest completed backups must all "
        "have fallen back from CBT.")] = 3,
) -> Any:
    """VMs whose last `last_backups` completed backups all fell back from VMware CBT, with the
    likely cause and the prerequisites to check. Read scope; `Accept: text/csv` for CSV."""
    report = await change_detection_report(session=session, page=page,
                                           scope=VmScope(hypervisor_id, target),
                                           last_backups=last_backups)
    return _answer(request, report, ChangeDetectionRow)


@router.get("/drift", response_model=DriftReport, responses=_responses(DriftRow))
async def get_drift_report(
    request: Request, session: ReadSessionDep, _principal: ReaderDep, page: PageDep,
    target: TargetFilterDep, hypervisor_id: HypervisorFilter = None,
    kind: Annotated[list[DriftKind] | None, Query(max_length=2)] = None,
) -> Any:
    """VMs whose membership tags describe a place they left: covered (or not) as if they were
    still there. Read scope; `Accept: text/csv` for the page as CSV."""
    report = await drift_report(session=session, keys=keys_of(request.app.state.settings),
                                page=page, scope=VmScope(hypervisor_id, target),
                                kinds=kind or list(DriftKind))
    return _answer(request, report, DriftRow)


def _answer(request: Request, report: Any, row: Any) -> Any:
    if wants_csv(request):
        response: Response = csv_response(request, report.items, row, report.next_cursor)
        return response
    return report
