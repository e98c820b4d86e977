from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class BackupPlan(Base):
    """An AWS Backup plan: created through vmbackup (``is_managed``) or found by the refresh."""

    __tablename__ = "backup_plan"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # AWS BackupPlanId
    arn: Mapped[str] = mapped_column(String(500))
    # The AWS account/region (VMBACKUP_AWS_TARGETS alias) it lives in.
    target: Mapped[str] = mapped_column(String(40), default="default", server_default="default",
                                        index=True)
    name: Mapped[str] = mapped_column(String(50))
    version_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_execution_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # vmbackup deletes only what it created, unless asked explicitly.
    is_managed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
