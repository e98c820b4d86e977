"""All AWS Backup state of one emulated account/region, plus the jobs engine that moves it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from emulator.backup.aws_errors import not_found
from emulator.backup.engine import JobEngine
from emulator.backup.entities import (
    BackupJob,
    Plan,
    RecoveryPoint,
    RestoreJob,
    Selection,
    Vault,
)
from emulator.backup.ids import IdFactory
from emulator.backup.settings import BackupSettings

if TYPE_CHECKING:
    from emulator.world import World


class BackupState:
    def __init__(self, world: World, settings: BackupSettings | None = None) -> None:
        self.world = world
        self.settings = settings or BackupSettings()
        self.ids = IdFactory(f"backup:{world.account_id}:{world.region}")
        self.vaults: dict[str, Vault] = {}  # by name
        self.plans: dict[str, Plan] = {}  # by plan id
        self.selections: dict[str, Selection] = {}  # by selection id
        self.jobs: dict[str, BackupJob] = {}  # by job id, in creation order
        self.recovery_points: dict[str, RecoveryPoint] = {}  # by ARN
        self.restore_jobs: dict[str, RestoreJob] = {}  # by job id, in creation order
        # resource ARN -> names of the vaults holding a completed backup of it
        self.backed_up_vaults: dict[str, set[str]] = {}
        # (operation, token) -> the id of the object that token created.
        self.idempotency_tokens: dict[tuple[str, str], str] = {}
        self.engine = JobEngine(self)
        world.clock.add_listener(self.engine.run_until)

    # clock and ARNs ---------------------------------------------------------------------
    def now(self) -> datetime:
        return self.world.clock.now()

    def arn(self, resource: str) -> str:
        return f"arn:aws:backup:{self.world.region}:{self.world.account_id}:{resource}"

    def kms_key_arn(self) -> str:
        return f"arn:aws:kms:{self.world.region}:{self.world.account_id}:key/{self.ids.uuid()}"

    # lookups ----------------------------------------------------------------------------
    def vault(self, name: str) -> Vault:
        vault = self.vaults.get(name)
        if vault is None:
            raise not_found(f"Backup vault {name} does not exist in this account and region.")
        return vault

    def plan(self, plan_id: str) -> Plan:
        plan = self.plans.get(plan_id)
        if plan is None:
            raise not_found(f"Failed reading Backup plan with provided version: {plan_id}")
        return plan

    def selection(self, plan_id: str, selection_id: str) -> Selection:
        self.plan(plan_id)
        selection = self.selections.get(selection_id)
        if selection is None or selection.plan_id != plan_id:
            raise not_found(f"Backup selection {selection_id} does not exist in plan {plan_id}")
        return selection

    def selections_of(self, plan_id: str) -> list[Selection]:
        return [s for s in self.selections.values() if s.plan_id == plan_id]

    def backup_job(self, job_id: str) -> BackupJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found(f"Backup job {job_id} does not exist.")
        return job

    def restore_job(self, job_id: str) -> RestoreJob:
        job = self.restore_jobs.get(job_id)
        if job is None:
            raise not_found(f"Restore job {job_id} does not exist.")
        return job

    def recovery_point(self, arn: str) -> RecoveryPoint:
        point = self.recovery_points.get(arn)
        if point is None:
            raise not_found(f"Recovery point {arn} does not exist.")
        return point

    def remembered(self, operation: str, token: str | None) -> str | None:
        return self.idempotency_tokens.get((operation, token)) if token else None

    def remember(self, operation: str, token: str | None, object_id: str) -> None:
        if token:
            self.idempotency_tokens[(operation, token)] = object_id
