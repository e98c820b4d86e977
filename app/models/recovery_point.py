from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class RecoveryPoint(Base):
    """A VM's recovery point as AWS Backup last listed it (GET /vms/{id}/recovery-points).

    Rows are replaced by each listing of the VM's points; a point AWS no longer lists (its
    lifecycle deleted it) is removed. The backup job that made a point is not stored: it is the
    cached job whose ``recovery_point_arn`` is this ARN, looked up when the point is read.
    """

    __tablename__ = "recovery_point"

    arn: Mapped[str] = mapped_column(String(500), primary_key=True)
    vm_id: Mapped[str] = mapped_column(String(64))
    vm_arn: Mapped[str] = mapped_column(String(500))
    vm_name: Mapped[str | None] = mapped_column(String(200))
    vault_name: Mapped[str] = mapped_column(String(50))
    # COMPLETED | PARTIAL | DELETING | EXPIRED | AVAILABLE | STOPPED | CREATING
    status: Mapped[str] = mapped_column(String(20))
    status_message: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    move_to_cold_storage_after_days: Mapped[int | None] = mapped_column(Integer)
    delete_after_days: Mapped[int | None] = mapped_column(Integer)
    move_to_cold_storage_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delete_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    plan_id: Mapped[str | None] = mapped_column(String(100))
    # GetRecoveryPointRestoreMetadata's answer (JSON), read once per point: a restore's disk
    # labels are checked against it without an AWS call.
    restore_metadata: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # A VM's points, newest first (the listing's keyset order).
        Index("ix_recovery_point_vm_id_created_at_arn", "vm_id", "created_at", "arn"),
    )
