from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class VmVmwareTag(Base):
    """A VMware tag (category + name) attached to a VM in vCenter."""

    __tablename__ = "vm_vmware_tag"

    vm_id: Mapped[str] = mapped_column(ForeignKey("vm.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    description: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_vm_vmware_tag_category_name", "category", "name"),)
