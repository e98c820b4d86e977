from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Hypervisor(Base):
    """A hypervisor (vCenter/ESXi) as AWS Backup Gateway knows it. The password is never stored."""

    __tablename__ = "hypervisor"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hype-XXXXXXXX
    arn: Mapped[str] = mapped_column(String(500), unique=True)
    # The AWS account/region (VMBACKUP_AWS_TARGETS alias) it lives in.
    target: Mapped[str] = mapped_column(String(40), default="default", server_default="default",
                                        index=True)
    name: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(20))  # PENDING | ONLINE | OFFLINE | ERROR
    kms_key_arn: Mapped[str | None] = mapped_column(String(500))
    log_group_arn: Mapped[str | None] = mapped_column(String(2048))
    metadata_sync_status: Mapped[str | None] = mapped_column(String(30))
    metadata_sync_message: Mapped[str | None] = mapped_column(String(2000))
    last_metadata_sync_succeeded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set (on our clock) when a newer successful metadata sync is seen: VM tags fetched before
    # it may be outdated, so the tag refresher fetches them again.
    vm_tags_invalidated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the hypervisor row itself was last read from AWS.
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When its VM listing last completed; the error of the last failed refresh, if any.
    inventory_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    inventory_error: Mapped[str | None] = mapped_column(String(2000))
    # Goes up with every write to its VMs' listed fields (name, host, path, last backup,
    # tombstone), so a replica can tell whether the snapshot it kept from its own last refresh
    # is still what the database holds. Not moved when another hypervisor's listing claims one
    # of its VMs (the VM moved): the refresher compares the live VM count for that.
    inventory_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
