from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class BackupSelection(Base):
    """An AWS backup selection (immutable in AWS). ``assignment_id`` is set for the ones a
    vmbackup assignment owns; the others were created elsewhere (console, Terraform)."""

    __tablename__ = "backup_selection"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # AWS SelectionId
    plan_id: Mapped[str] = mapped_column(ForeignKey("backup_plan.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    iam_role_arn: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assignment_id: Mapped[str | None] = mapped_column(
        ForeignKey("assignment.id", ondelete="SET NULL"))
    # AWS's BackupSelection body: Resources, NotResources, ListOfTags, Conditions.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_backup_selection_plan_id", "plan_id"),
        Index("ix_backup_selection_assignment_id", "assignment_id"),
    )
