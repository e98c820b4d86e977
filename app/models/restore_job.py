from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class RestoreJob(Base):
    """An AWS Backup restore of a VM recovery point to VMware (started here or elsewhere).

    The target (hypervisor, name, folder, compute resource, datastore, disks) is what vmbackup
    sent; AWS does not return it, so restores started elsewhere have it null.
    """

    __tablename__ = "restore_job"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # AWS RestoreJobId
    account_id: Mapped[str | None] = mapped_column(String(12))
    recovery_point_arn: Mapped[str] = mapped_column(String(500))
    source_vm_arn: Mapped[str | None] = mapped_column(String(500))
    source_vm_id: Mapped[str | None] = mapped_column(String(64))
    vault_arn: Mapped[str | None] = mapped_column(String(500))
    hypervisor_id: Mapped[str | None] = mapped_column(String(64))
    vm_name: Mapped[str | None] = mapped_column(String(100))
    folder_path: Mapped[str | None] = mapped_column(String(4096))
    compute_resource_name: Mapped[str | None] = mapped_column(String(255))
    datastore_name: Mapped[str | None] = mapped_column(String(255))
    disks: Mapped[str | None] = mapped_column(Text)  # JSON list of disk labels; null: all
    iam_role_arn: Mapped[str | None] = mapped_column(String(500))
    # PENDING | RUNNING | COMPLETED | ABORTED | FAILED
    state: Mapped[str] = mapped_column(String(20))
    status_message: Mapped[str | None] = mapped_column(String(2000))
    percent_done: Mapped[float | None] = mapped_column(Float)
    restore_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    elapsed_seconds: Mapped[float | None] = mapped_column(Float)  # created -> completed
    created_vm_arn: Mapped[str | None] = mapped_column(String(500))
    created_vm_id: Mapped[str | None] = mapped_column(String(64))  # from the ARN
    # Who started it through vmbackup, and the IdempotencyToken sent (a retry finds it).
    principal: Mapped[str | None] = mapped_column(String(200))
    idempotency_token: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_restore_job_created_at_id", "created_at", "id"),
        Index("ix_restore_job_state_created_at_id", "state", "created_at", "id"),
        Index("ix_restore_job_source_vm_id_created_at_id", "source_vm_id", "created_at", "id"),
        Index("ix_restore_job_hypervisor_id_created_at_id", "hypervisor_id", "created_at", "id"),
        Index("ix_restore_job_idempotency_token", "idempotency_token"),
    )
