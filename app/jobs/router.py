from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from app.aws.clients import AwsTargetsDep, TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.core.app_state import SettingsDep, settings_of
from app.core.auth import OperatorDep, Principal, ReaderDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, DomainError, error_responses
from app.core.pagination import PageDep
from app.core.timestamps import IsoDatetime
from app.intents.service import Intents
from app.jobs import reads, service
from app.jobs.errors import (
    BackupSettingMissing,
    BackupVaultNotFound,
    BackupWindowTooShort,
    JobNotFound,
    JobNotStoppable,
    VmHasActiveJob,
)
from app.jobs.repository import JobFilter
from app.jobs.schemas import (
    JobPage,
    JobRead,
    JobsStartResult,
    JobSummaryRead,
    OnDemandBackupCreate,
    OnDemandBackupsCreate,
)
from app.jobs.states import ChangeDetection, JobOrigin, JobState
from app.jobs.summary import summarize
from app.jobs.vaults import VaultNames
from app.vms.service import VmNotFound

router = APIRouter(prefix="/jobs", tags=["jobs"])
vm_backups_router = APIRouter(prefix="/vms", tags=["jobs"])
JobIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]
RequiredIdempotencyKey = Annotated[str, Header(
    alias="Idempotency-Key", min_length=1, max_length=255,
    description="Required. The same key and body replay the first response; it also becomes "
    "AWS's IdempotencyToken (per credential and VM), so a retry never starts a second backup.")]
_START_ERRORS = (*COMMON_ERRORS, *AWS_ERRORS, VmNotFound, BackupVaultNotFound,
                 BackupSettingMissing, BackupWindowTooShort, VmHasActiveJob)


def _vault_names(request: Request) -> VaultNames:
    state = request.app.state
    if getattr(state, "vault_names", None) is None:  # one per replica, made on first use
        state.vault_names = VaultNames(state.settings.backup_vault_cache_seconds)
    names: VaultNames = state.vault_names
    return names


def _start_context(request: Request, principal: Principal, key: str) -> service.StartContext:
    settings = settings_of(request)
    return service.StartContext(settings=settings, targets=request.app.state.aws,
                                vaults=_vault_names(request), principal=principal.name,
                                idempotency_key=key,
                                intents=Intents(request.app.state.sessionmaker, settings))


@vm_backups_router.post("/{vm_id}/backups", status_code=202, response_model=JobRead,
                        responses=error_responses(*_START_ERRORS))
async def start_vm_backup(
    vm_id: Annotated[str, Path(max_length=64)], body: OnDemandBackupCreate, request: Request,
    response: Response, session: SessionDep, principal: OperatorDep,
    idempotency_key: RequiredIdempotencyKey,
) -> JobRead:
    """Start a one-time full (on-demand) backup of the VM. 202 with the job; follow it at
    `Location` (GET /jobs/{id}) until it is COMPLETED."""
    [outcome] = await service.start_backups(
        session=session, ctx=_start_context(request, principal, idempotency_key),
        vm_ids=[vm_id], options=body)
    if isinstance(outcome, DomainError):
        raise outcome
    response.headers["Location"] = f"/jobs/{outcome.id}"
    return outcome


@router.post("", status_code=202, response_model=JobsStartResult,
             responses=error_responses(*_START_ERRORS))
async def start_backups(
    body: OnDemandBackupsCreate, request: Request, response: Response, session: SessionDep,
    principal: OperatorDep, idempotency_key: RequiredIdempotencyKey,
) -> JobsStartResult:
    """Start on-demand backups of up to 100 VMs, one result per VM (one VM's refusal does not
    fail the others). Each started job's URL is in its result's `location`."""
    outcomes = await service.start_backups(
        session=session, ctx=_start_context(request, principal, idempotency_key),
        vm_ids=body.vm_ids, options=body)
    results = [service.as_result(vm_id, outcome)
               for vm_id, outcome in zip(body.vm_ids, outcomes, strict=True)]
    succeeded = sum(result.is_successful for result in results)
    return JobsStartResult(results=results, succeeded=succeeded,
                           failed=len(results) - succeeded)


async def _job_filter(
    target: TargetFilterDep,
    state: Annotated[list[JobState] | None, Query(max_length=9)] = None,
    vm_id: Annotated[str | None, Query(max_length=64)] = None,
    hypervisor_id: Annotated[str | None, Query(max_length=64)] = None,
    plan_id: Annotated[str | None, Query(max_length=100)] = None,
    origin: JobOrigin | None = None,
    change_detection: ChangeDetection | None = None,
    created_after: IsoDatetime | None = None,
    created_before: IsoDatetime | None = None,
    completed_after: IsoDatetime | None = None,
    completed_before: IsoDatetime | None = None,
) -> JobFilter:
    return JobFilter(
        states=tuple(state or ()), vm_id=vm_id, hypervisor_id=hypervisor_id, plan_id=plan_id,
        origin=origin, change_detection=change_detection, created_after=created_after,
        created_before=created_before, completed_after=completed_after,
        completed_before=completed_before, target=target)


@router.get("", response_model=JobPage, responses=error_responses(*COMMON_ERRORS))
async def list_jobs(job_filter: Annotated[JobFilter, Depends(_job_filter)], session: SessionDep,
                    settings: SettingsDep, _principal: ReaderDep, page: PageDep) -> JobPage:
    """Cached backup jobs (on-demand and scheduled, kept beyond AWS's 30 days), newest first;
    sort by `created_at` or `completed_at` (finished jobs only; prefix `-` for newest first)."""
    return await reads.list_jobs(session=session, settings=settings, query=job_filter,
                                 page=page)


@router.get("/summary", response_model=JobSummaryRead, responses=error_responses(*COMMON_ERRORS))
async def summarize_jobs(
    session: SessionDep, _principal: ReaderDep,
    since: Annotated[IsoDatetime | None, Query(description="Jobs created from then on; default "
                                            "the 7 days before `until` or the newest job.")
                     ] = None,
    until: IsoDatetime | None = None,
) -> JobSummaryRead:
    """Counts by state, bytes, elapsed-time percentiles and CBT fallbacks of the jobs created
    in a window, overall and per hypervisor."""
    return await summarize(session=session, since=since, until=until)


@router.get("/{job_id}", response_model=JobRead,
            responses=error_responses(*COMMON_ERRORS, JobNotFound))
async def get_job(job_id: JobIdPath, session: SessionDep, targets: AwsTargetsDep,
                  settings: SettingsDep, _principal: ReaderDep) -> JobRead:
    """One job: state, percent, sizes, dates, elapsed time, message, change detection, and
    why it waits if it has not started. Read through from AWS while the job is active."""
    return await reads.get_job(session=session, targets=targets, settings=settings,
                               job_id=job_id)


@router.post("/{job_id}/stop", status_code=202, response_model=JobRead,
             responses=error_responses(*COMMON_ERRORS, *AWS_ERRORS, JobNotFound, JobNotStoppable))
async def stop_job(job_id: JobIdPath, session: SessionDep, targets: AwsTargetsDep,
                   settings: SettingsDep, _principal: OperatorDep) -> JobRead:
    """Ask AWS to stop a job that has not finished; it is ABORTING, then ABORTED."""
    return await service.stop_job(session=session, targets=targets, settings=settings,
                                  job_id=job_id)
