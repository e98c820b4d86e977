from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class BackupJob(Base):
    """An AWS Backup job of a VM, on-demand or scheduled, kept after AWS forgets it (30 days).

    Plan and rule are AWS's identifiers as plain strings: a job may come from a plan vmbackup
    never cached, and the job outlives the plan.
    """

    __tablename__ = "backup_job"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # AWS BackupJobId
    account_id: Mapped[str | None] = mapped_column(String(12))
    # The AWS account/region (VMBACKUP_AWS_TARGETS alias) whose refresh lists it.
    target: Mapped[str] = mapped_column(String(40), default="default", server_default="default")
    vm_arn: Mapped[str] = mapped_column(String(500))
    vm_id: Mapped[str | None] = mapped_column(String(64))  # from the ARN
    vm_name: Mapped[str | None] = mapped_column(String(200))
    hypervisor_id: Mapped[str | None] = mapped_column(String(64))  # from the VM cache
    # CREATED | PENDING | RUNNING | ABORTING | ABORTED | COMPLETED | FAILED | EXPIRED | PARTIAL
    state: Mapped[str] = mapped_column(String(20))
    status_message: Mapped[str | None] = mapped_column(String(2000))
    message_category: Mapped[str | None] = mapped_column(String(50))
    percent_done: Mapped[float | None] = mapped_column(Float)
    backup_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    bytes_transferred: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expected_completion_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    elapsed_seconds: Mapped[float | None] = mapped_column(Float)  # created -> completed
    vault_name: Mapped[str | None] = mapped_column(String(50))
    vault_arn: Mapped[str | None] = mapped_column(String(500))
    recovery_point_arn: Mapped[str | None] = mapped_column(String(500))
    iam_role_arn: Mapped[str | None] = mapped_column(String(500))
    plan_id: Mapped[str | None] = mapped_column(String(100))
    plan_arn: Mapped[str | None] = mapped_column(String(500))
    plan_name: Mapped[str | None] = mapped_column(String(100))
    plan_version: Mapped[str | None] = mapped_column(String(100))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    rule_name: Mapped[str | None] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))  # on_demand | scheduled
    # Who started an on-demand job through vmbackup; null for jobs started elsewhere.
    principal: Mapped[str | None] = mapped_column(String(200))
    # The IdempotencyToken vmbackup sent when it started the job, so a retry finds it.
    idempotency_token: Mapped[str | None] = mapped_column(String(64))
    # cbt | fallback_cbt_invalid | fallback_cbt_unavailable | full | unknown
    change_detection: Mapped[str] = mapped_column(String(30))
    # When the row was last read from AWS, and when a read last changed it.
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Each filter of GET /jobs pages newest first from its own index.
        Index("ix_backup_job_created_at_id", "created_at", "id"),
        Index("ix_backup_job_target_created_at_id", "target", "created_at", "id"),
        Index("ix_backup_job_completed_at_id", "completed_at", "id"),
        Index("ix_backup_job_state_created_at_id", "state", "created_at", "id"),
        Index("ix_backup_job_vm_id_created_at_id", "vm_id", "created_at", "id"),
        Index("ix_backup_job_hypervisor_id_created_at_id", "hypervisor_id", "created_at", "id"),
        Index("ix_backup_job_plan_id_created_at_id", "plan_id", "created_at", "id"),
        Index("ix_backup_job_origin_created_at_id", "origin", "created_at", "id"),
        Index("ix_backup_job_change_detection_created_at_id", "change_detection", "created_at",
              "id"),
        # Each VM's newest COMPLETED job (GET /reports/rpo) from the index alone.
        Index("ix_backup_job_state_vm_id_completed_at", "state", "vm_id", "completed_at"),
        # The VMs that ever fell back from CBT (GET /reports/change-detection), from the index.
        Index("ix_backup_job_change_detection_vm_id", "change_detection", "vm_id"),
    )
