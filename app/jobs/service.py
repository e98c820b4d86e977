"""On-demand backups and stopping jobs: checked against the cache, then sent to AWS.

Everything AWS would refuse is refused first (no AWS call): an unknown or deleted VM, a vault
that does not exist, windows under AWS's minimums, a VM with a job in progress. The request's
Idempotency-Key becomes AWS's IdempotencyToken, derived from the credential, the key and the
VM, so a retry on any replica, after a restart or after the key's record expired, finds the
same AWS job instead of starting a second backup. Each start is announced first, committed on
its own (app/intents), so a retry whose first attempt died after AWS started the job adopts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_jobs as aws
from app.aws.clients import AwsClients, AwsTargets
from app.core.config import DEFAULT_TARGET, Settings
from app.core.errors import DomainError, problem_type
from app.hypervisors import repository as hypervisors
from app.intents import service as intents
from app.intents.service import Intents
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

_START_CONCURRENCY = 8
_START = "StartBackupJob"


@dataclass(frozen=True)
class StartContext:
    settings: Settings
    targets: AwsTargets  # a VM's backup starts in its own target (its hypervisor's)
    vaults: VaultNames
    principal: str
    idempotency_key: str
    intents: Intents  # where starts are announced before they are sent


@dataclass(frozen=True)
class Resolved:
    clients: AwsClients
    vault_name: str
    iam_role_arn: str
    lifecycle: dict[str, int] | None


def idempotency_token(settings: Settings, *, principal: str, key: str, vm_id: str) -> str:
    """The same (credential, key, VM) gives the same token on every replica, forever."""
    message = "\0".join(("StartBackupJob", principal, key, vm_id)).encode()
    return hmac.new(settings.fingerprint_key(), message, hashlib.sha256).hexdigest()[:48]


def _lifecycle(options: BackupOptions) -> dict[str, int] | None:
    if options.lifecycle is None:
        return None
    lifecycle = {aws_name: value for aws_name, value in (
        ("MoveToColdStorageAfterDays", options.lifecycle.move_to_cold_storage_after_days),
        ("DeleteAfterDays", options.lifecycle.delete_after_days)) if value is not None}
    return lifecycle or None


async def resolve_options(ctx: StartContext, clients: AwsClients,
                          options: BackupOptions) -> Resolved:
    """The request's options in one target, its defaults filled in, checked; raises what AWS
    would (the windows are checked once, before, by :func:`start_backups`)."""
    vault = options.vault_name or clients.default_backup_vault_name
    role = options.iam_role_arn or clients.default_backup_iam_role_arn
    for field, value in (("vault_name", vault), ("iam_role_arn", role)):
        if value is None:
            raise BackupSettingMissing(
                f"{field} is required: no default is configured for AWS target "
                f"{clients.target!r} (its default_backup_{field} in VMBACKUP_AWS_TARGETS, or "
                f"VMBACKUP_DEFAULT_BACKUP_{field.upper()}).",
                invalid_params=[{"name": f"body.{field}", "reason": "missing"}])
    assert vault is not None
    assert role is not None
    if not await ctx.vaults.exists(clients.backup, vault):
        raise BackupVaultNotFound(
            f"There is no backup vault {vault!r} in AWS target {clients.target!r} (the "
            "VM's account/region).",
            invalid_params=[{"name": "body.vault_name", "reason": "not found"}])
    return Resolved(clients=clients, vault_name=vault, iam_role_arn=role,
                    lifecycle=_lifecycle(options))


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


async def _options_by_target(ctx: StartContext, aliases: set[str],
                             options: BackupOptions) -> dict[str, Resolved | DomainError]:
    """The options resolved in each target the request's VMs live in (one vault check each)."""
    resolved: dict[str, Resolved | DomainError] = {}
    for alias in sorted(aliases):
        try:
            clients = ctx.targets.of(alias, resource=f"AWS target {alias!r}")
            resolved[alias] = await resolve_options(ctx, clients, options)
        except DomainError as error:
            resolved[alias] = error
    return resolved


async def start_backups(*, session: AsyncSession, ctx: StartContext, vm_ids: list[str],
                        options: BackupOptions) -> list[JobRead | DomainError]:
    """Start one on-demand backup per VM, in the VM's target; each VM gets its own outcome,
    in order."""
    _check_windows(ctx.settings, options)
    vms = await repository.vms_by_id(session=session, vm_ids=vm_ids)
    live = {vm_id: vm for vm_id, vm in vms.items() if vm.deleted_at is None}
    hypervisor_targets = await hypervisors.targets_of(
        session=session, hypervisor_ids={vm.hypervisor_id for vm in live.values()})
    target_of = {vm_id: hypervisor_targets.get(vm.hypervisor_id, DEFAULT_TARGET)
                 for vm_id, vm in live.items()}
    by_target = await _options_by_target(ctx, set(target_of.values()), options)
    if len(by_target) == 1 and isinstance(only := next(iter(by_target.values())), DomainError):
        raise only  # the VMs' one target refuses the options: the request's own refusal
    active = await repository.active_jobs_of_vms(session=session, vm_ids=list(live))
    tokens = {vm_id: idempotency_token(ctx.settings, principal=ctx.principal,
                                       key=ctx.idempotency_key, vm_id=vm_id) for vm_id in vm_ids}
    # A job AWS started for a dead attempt of this request, cached by the refresh without
    # its token: the attempt's intent says it may be ours (AWS's answer below settles it).
    strangers = {tokens[vm_id]: vm_id for vm_id, job in active.items()
                 if job.idempotency_token is None and job.plan_id is None}
    ours = await intents.intended(session=session, operation=_START,
                                  resources_by_token=strangers) if strangers else set()

    def decide(vm_id: str) -> Resolved | str | DomainError:
        vm = live.get(vm_id)
        if vm is None:
            return VmNotFound(f"No VM {vm_id} in the cache (or it was deleted).")
        resolved = by_target[target_of[vm_id]]
        if isinstance(resolved, DomainError):
            return resolved
        running = active.get(vm_id)
        if running is None or tokens[vm_id] in ours:
            return resolved
        if running.idempotency_token == tokens[vm_id]:
            return running.id  # this very request, retried: its job, not a second one
        return VmHasActiveJob(
            f"VM {vm_id} already has backup job {running.id} ({running.state}); AWS runs "
            "one backup per VM at a time. Stop it or wait for it to finish.",
            job_id=running.id)

    decisions = {vm_id: decide(vm_id) for vm_id in vm_ids}
    to_start = {tokens[vm_id]: vm_id for vm_id, decision in decisions.items()
                if isinstance(decision, Resolved)}
    await intents.record_intents(ctx.intents, operation=_START, principal=ctx.principal,
                                 resources_by_token=to_start)
    semaphore = asyncio.Semaphore(_START_CONCURRENCY)

    async def start(vm_id: str, resolved: Resolved) -> tuple[aws.BackupJobInfo, Resolved] | str \
            | DomainError:
        arn = live[vm_id].arn
        async with semaphore:
            try:
                started = await aws.start_backup_job(
                    resolved.clients.backup, vault_name=resolved.vault_name,
                    resource_arn=arn, iam_role_arn=resolved.iam_role_arn,
                    idempotency_token=tokens[vm_id],
                    start_window_minutes=options.start_window_minutes,
                    complete_window_minutes=options.complete_window_minutes,
                    lifecycle=resolved.lifecycle)
            except DomainError as error:
                return error
        running = active.get(vm_id)
        if running is not None and running.id == started.id:
            # AWS answered this token with the cached job: the dead attempt's, now ours.
            await repository.adopt_job(session=session, job_id=started.id,
                                       principal=ctx.principal, token=tokens[vm_id])
            return started.id
        return _as_created(started, arn, resolved), resolved

    async def one(vm_id: str) -> tuple[aws.BackupJobInfo, Resolved] | str | DomainError:
        decision = decisions[vm_id]
        return await start(vm_id, decision) if isinstance(decision, Resolved) else decision

    outcomes = await asyncio.gather(*(one(vm_id) for vm_id in vm_ids))
    created = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    started = {job.id: Started(ctx.principal, tokens[vm_id_of(job.resource_arn) or ""])
               for job, _ in created}
    jobs_by_target: dict[str, list[aws.BackupJobInfo]] = {}
    for job, resolved in created:
        jobs_by_target.setdefault(resolved.clients.target, []).append(job)
    for target, jobs in jobs_by_target.items():
        await save_jobs(session=session, jobs=jobs, now=utcnow(), started=started, only_new=True,
                        target=target)
    job_ids = [outcome if isinstance(outcome, str) else outcome[0].id
               for outcome in outcomes if not isinstance(outcome, DomainError)]
    rows = await repository.jobs_by_id(session=session, job_ids=job_ids)
    return [outcome if isinstance(outcome, DomainError) else to_read(
        rows[outcome if isinstance(outcome, str) else outcome[0].id], ctx.settings)
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
    client = targets.of(job.target, resource=f"Backup job {job_id}").backup
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

