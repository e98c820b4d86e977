from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Vm(Base):
    """A virtual machine discovered by a gateway. Kept (tombstoned) after it disappears."""

    __tablename__ = "vm"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # vm-XXXXXXXXXXXXXXXX
    # Not a unique key of its own: AWS builds it from the id, and every index is paid for on
    # each insert of a 100,000-VM first refresh.
    arn: Mapped[str] = mapped_column(String(500))
    hypervisor_id: Mapped[str] = mapped_column(ForeignKey("hypervisor.id"))
    name: Mapped[str] = mapped_column(String(200))
    host_name: Mapped[str | None] = mapped_column(String(200))
    # vCenter inventory path, e.g. "/Datacenter/vm/Prod/Web"; folder filters match on it.
    path: Mapped[str] = mapped_column(String(4096))
    last_backup_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When a listing last changed this row. Rows a listing finds unchanged are not written, so
    # a VM's freshness is its hypervisor's inventory_synced_at, not this.
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When its VMware and AWS tags were last fetched; null until the first fetch.
    tags_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Serves the hypervisor + folder filter already ordered by name (keyset pages).
        Index("ix_vm_hypervisor_id_path_name_id", "hypervisor_id", "path", "name", "id"),
        Index("ix_vm_name_id", "name", "id"),
        Index("ix_vm_path_id", "path", "id"),
        Index("ix_vm_last_backup_at_id", "last_backup_at", "id"),
        # Counts a hypervisor's live VMs from the index alone, and lets the tag refresher pick
        # the live VMs whose tags are missing or oldest.
        Index("ix_vm_hypervisor_id_deleted_at_tags_synced_at", "hypervisor_id", "deleted_at",
              "tags_synced_at"),
    )
