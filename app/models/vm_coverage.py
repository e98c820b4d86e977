from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class VmCoverage(Base):
    """A backup selection that assigns a VM to its plan, as vmbackup evaluates AWS's rules
    against the cached VMs and their AWS tags (derived data: recomputed, never edited)."""

    __tablename__ = "vm_coverage"

    vm_id: Mapped[str] = mapped_column(ForeignKey("vm.id", ondelete="CASCADE"), primary_key=True)
    selection_id: Mapped[str] = mapped_column(
        ForeignKey("backup_selection.id", ondelete="CASCADE"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_vm_coverage_plan_id_vm_id", "plan_id", "vm_id"),
                      Index("ix_vm_coverage_selection_id", "selection_id"))
