from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class TagMappingSyncVm(Base):
    """A VM the latest metadata sync started through vmbackup was expected to re-tag.

    Recorded when the sync starts (the VMs missing one of their mapped AWS tags), so the sync's
    outcome can be told per VM once the inventory refresh has read the VMs' AWS tags again.
    """

    __tablename__ = "tag_mapping_sync_vm"

    hypervisor_id: Mapped[str] = mapped_column(
        ForeignKey("hypervisor.id", ondelete="CASCADE"), primary_key=True)
    vm_id: Mapped[str] = mapped_column(ForeignKey("vm.id", ondelete="CASCADE"), primary_key=True)
