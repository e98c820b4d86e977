from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class VmAwsTag(Base):
    """An AWS tag on a VM resource (set by users, tag mappings, or vmbackup's group tags)."""

    __tablename__ = "vm_aws_tag"

    vm_id: Mapped[str] = mapped_column(ForeignKey("vm.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))

    # With vm_id, a (key, value) test's VM ids are read from the index alone (coverage sets).
    __table_args__ = (Index("ix_vm_aws_tag_key_value_vm_id", "key", "value", "vm_id"),)
