"""On-demand backups and stopping jobs: checked against the cache, then sent to AWS.

Everything AWS would refuse is refused first (no AWS call): an unknown or deleted VM, a vault
that does not exist, windows under AWS's minimums, a VM with a job in progress. The request's
Idempotency-Key becomes AWS's IdempotencyToken, derived from the credential, the key and the
VM, so a retry on any replica, after a restart or after the key's record expired, finds the
same AWS job instead of starting a second backup.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_jobs as aws
from app.aws.clients import AwsTargets
from app.core.config import Settings
from app.core.errors import DomainError, problem_type
from app.jobs import repository
from app.jobs.detection import vm_id_of
from app.jobs.errors import (
    BackupSettingMissing,
    BackupVaultNotFound,
    BackupWindowTooShort,
    JobNotFound,
    JobNotStoppable,
    VmHasActiveJob,
)
from app.jobs.resource import to_read
from app.jobs.schemas import BackupOptions, JobRead, JobStartError, JobStartResult
from app.jobs.states import ACTIVE_STATES
from app.jobs.store import Started, save_jobs
from app.jobs.vaults import VaultNames
from app.models.base import utcnow
from app.vms.service import VmNotFound

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

_START_CONCURRENCY = 8


@dataclass(frozen=True)
class StartContext:
    settings: Settings
    client: BackupClient
    vaults: VaultNames
    principal: str
    idempotency_key: str
    # Every target's clients: a VM's backup starts in its own target (from its ARN).
    targets: AwsTargets | None = None

    def client_for(self, arn: str) -> BackupClient:
        return self.client if self.targets is None else self.targets.for_arn(arn).backup


@dataclass(frozen=True)
class Resolved:
    vault_name: str
    iam_role_arn: str
    lifecycle: dict[str, int] | None


def idempotency_token(settings: Settings, *, principal: str, key: str, vm_id: str) -> str:
    """The same (credential, key, VM) gives the same token on every replica, forever."""
    message = "\0".join(("StartBackupJob", principal, key, vm_id)).encode()
    return hmac.new(settings.fingerprint_key(), message, hashlib.sha256).hexdigest()[:48]


async def resolve_options(ctx: StartContext, options: BackupOptions) -> Resolved:
    """The request's options with the defaults filled in, checked; raises what AWS would."""
    settings = ctx.settings
    vault = options.vault_name or settings.default_backup_vault_name
    role = options.iam_role_arn or settings.default_backup_iam_role_arn
    for field, value, variable in (("vault_name", vault, "DEFAULT_BACKUP_VAULT_NAME"),
                                   ("iam_role_arn", role, "DEFAULT_BACKUP_IAM_ROLE_ARN")):
        if value is None:
            raise BackupSettingMissing(
                f"{field} is required: no default is configured (VMBACKUP_{variable}).",
                invalid_params=[{"name": f"body.{field}", "reason": "missing"}])
    assert vault is not None
    assert role is not None
    _check_windows(settings, options)
    if not await ctx.vaults.exists(ctx.client, vault):
        raise BackupVaultNotFound(f"There is no backup vault {vault!r} in this account/region.",
                                  invalid_params=[{"name": "body.vault_name",
                                                   "reason": "not found"}])
    lifecycle = None
    if options.lifecycle is not None:
        lifecycle = {aws_name: value for aws_name, value in (
            ("MoveToColdStorageAfterDays", options.lifecycle.move_to_cold_storage_after_days),
            ("DeleteAfterDays", options.lifecycle.delete_after_days)) if value is not None}
    return Resolved(vault_name=vault, iam_role_arn=role, lifecycle=lifecycle or None)


def _check_windows(settings: Settings, options: BackupOptions) -> None:
    minimum, margin = (settings.backup_min_start_window_minutes,
                       settings.backup_min_completion_margin_minutes)
    start = options.start_window_minutes
    if start is not None and start < minimum:
        raise BackupWindowTooShort(
            f"start_window_minutes must be at least {minimum} (AWS's minimum).",
            invalid_params=[{"name": "body.start_window_minutes", "reason": "too short"}])
    complete = options.complete_window_minutes
    floor = (start or minimum) + margin
    if complete is not None and complete < floor:
        raise BackupWindowTooShort(
            f"complete_window_minutes must be at least {margin} minutes more than the start "
            f"window ({floor} here).",
            invalid_params=[{"name": "body.complete_window_minutes", "reason": "too short"}])


async def start_backups(*, session: AsyncSession, ctx: StartContext, vm_ids: list[str],
                        options: BackupOptions) -> list[JobRead | DomainError]:
    """Start one on-demand backup per VM; each VM gets its own outcome, in order."""
    resolved = await resolve_options(ctx, options)
    vms = await repository.vms_by_id(session=session, vm_ids=vm_ids)
    arns = {vm_id: vm.arn for vm_id, vm in vms.items()}
    active = await repository.active_jobs_of_vms(session=session, vm_ids=list(vms))
    tokens = {vm_id: idempotency_token(ctx.settings, principal=ctx.principal,
                                       key=ctx.idempotency_key, vm_id=vm_id) for vm_id in vm_ids}
    semaphore = asyncio.Semaphore(_START_CONCURRENCY)

    async def one(vm_id: str) -> aws.BackupJobInfo | str | DomainError:
        vm = vms.get(vm_id)
        if vm is None or vm.deleted_at is not None:
            return VmNotFound(f"No VM {vm_id} in the cache (or it was deleted).")
        client = ctx.client_for(vm.arn)
        if client is not ctx.client and not await ctx.vaults.exists(client,
                                                                    resolved.vault_name):
            return BackupVaultNotFound(
                f"There is no backup vault {resolved.vault_name!r} in the account/region of "
                f"VM {vm_id}.", invalid_params=[{"name": "body.vault_name",
                                                  "reason": "not found"}])
        running = active.get(vm_id)
        if running is not None:
            if running.idempotency_token == tokens[vm_id]:
                return running.id  # this very request, retried: its job, not a second one
            return VmHasActiveJob(
                f"VM {vm_id} already has backup job {running.id} ({running.state}); AWS runs "
                "one backup per VM at a time. Stop it or wait for it to finish.",
                job_id=running.id)
        async with semaphore:
            try:
                started = await aws.start_backup_job(
                    client, vault_name=resolved.vault_name, resource_arn=arns[vm_id],
                    iam_role_arn=resolved.iam_role_arn, idempotency_token=tokens[vm_id],
                    start_window_minutes=options.start_window_minutes,
                    complete_window_minutes=options.complete_window_minutes,
                    lifecycle=resolved.lifecycle)
            except DomainError as error:
                return error
        return _as_created(started, arns[vm_id], resolved)

    outcomes = await asyncio.gather(*(one(vm_id) for vm_id in vm_ids))
    created = [outcome for outcome in outcomes if isinstance(outcome, aws.BackupJobInfo)]
    started = {job.id: Started(ctx.principal, tokens[vm_id_of(job.resource_arn) or ""])
               for job in created}
    by_target: dict[str | None, list[aws.BackupJobInfo]] = {}
    for job in created:
        target = None if ctx.targets is None else ctx.targets.for_arn(job.resource_arn).target
        by_target.setdefault(target, []).append(job)
    for target, jobs in by_target.items():
        await save_jobs(session=session, jobs=jobs, now=utcnow(), started=started, only_new=True,
                        target=target)
    rows = await repository.jobs_by_id(
        session=session, job_ids=[outcome if isinstance(outcome, str) else outcome.id
                                  for outcome in outcomes
                                  if isinstance(outcome, str | aws.BackupJobInfo)])
    return [outcome if isinstance(outcome, DomainError) else to_read(
        rows[outcome if isinstance(outcome, str) else outcome.id], ctx.settings)
        for outcome in outcomes]


def as_result(vm_id: str, outcome: JobRead | DomainError) -> JobStartResult:
    if isinstance(outcome, DomainError):
        return JobStartResult(vm_id=vm_id, is_successful=False, error=JobStartError(
            status=outcome.status, type=problem_type(outcome.slug), detail=outcome.detail))
    return JobStartResult(vm_id=vm_id, is_successful=True, job=outcome,
                          location=f"/jobs/{outcome.id}")


def _as_created(started: aws.StartedJob, arn: str, resolved: Resolved) -> aws.BackupJobInfo:
    """What StartBackupJob tells of a new job, until the refresh or a read fills in the rest."""
    return aws.BackupJobInfo(
        id=started.id, account_id=None, state="CREATED", status_message=None,
        message_category=None, percent_done=None, backup_size_bytes=None,
        bytes_transferred=None, resource_arn=arn, resource_name=None,
        vault_name=resolved.vault_name, vault_arn=None,
        recovery_point_arn=started.recovery_point_arn, iam_role_arn=resolved.iam_role_arn,
        created_at=started.created_at, started_at=None, completed_at=None,
        expected_completion_at=None, start_by=None, plan_id=None, plan_arn=None,
        plan_name=None, plan_version=None, rule_id=None, rule_name=None)


async def stop_job(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                   job_id: str) -> JobRead:
    job = await repository.get_job(session=session, job_id=job_id)
    if job is None:
        raise JobNotFound(f"No backup job {job_id}.")
    client = targets.get(job.target).backup  # the job's own account/region
    if job.state not in ACTIVE_STATES or job.state == "ABORTING":
        raise JobNotStoppable(f"Backup job {job_id} is {job.state}; only CREATED, PENDING and "
                              "RUNNING jobs can be stopped.")
    await aws.stop_backup_job(client, job_id=job_id)
    # AWS answers at once and aborts shortly after: the job is ABORTING from now on.
    info = await aws.describe_backup_job(client, job_id=job_id)
    if info.state in ACTIVE_STATES and info.state != "ABORTING":
        info = replace(info, state="ABORTING")
    await save_jobs(session=session, jobs=[info], now=utcnow())
    refreshed = await repository.get_job(session=session, job_id=job_id)
    assert refreshed is not None
    return to_read(refreshed, settings)

