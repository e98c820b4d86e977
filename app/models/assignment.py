from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Assignment(Base):
    """vmbackup's unit of "put these VMs under this plan": one or more AWS selections (more
    than one when a VM list exceeds AWS's 500 ARNs per selection)."""

    __tablename__ = "assignment"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # asg-<hex>
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))  # vms | tags | folder | hypervisor
    plan_id: Mapped[str] = mapped_column(ForeignKey("backup_plan.id"))
    iam_role_arn: Mapped[str] = mapped_column(String(2048))
    # The target as requested (validated), e.g. {"hypervisor_id", "folder", "include_subfolders"}.
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Bumped by every replace: it names the AWS selections, which cannot be renamed or edited.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    etag: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_assignment_plan_id", "plan_id"),
                      Index("ix_assignment_kind", "kind"))
