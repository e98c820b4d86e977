from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class TagMappingSet(Base):
    """A hypervisor's mapping list as a whole: its IAM role, ETag and freshness.

    No row means vmbackup has never read the hypervisor's mappings from AWS.
    """

    __tablename__ = "tag_mapping_set"

    hypervisor_id: Mapped[str] = mapped_column(
        ForeignKey("hypervisor.id", ondelete="CASCADE"), primary_key=True)
    iam_role_arn: Mapped[str | None] = mapped_column(String(2048))
    # Content hash of (role, mappings): the same state has the same ETag on every replica.
    etag: Mapped[str] = mapped_column(String(80))
    # When the list was last read from or written to AWS.
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When vmbackup last changed it, and last started a metadata sync for the hypervisor.
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sync_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
