from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class RecoveryPointListing(Base):
    """When a VM's recovery points were last listed from AWS: the freshness of its rows in
    ``recovery_point`` (a VM without points has no rows, but may still have been listed)."""

    __tablename__ = "recovery_point_listing"

    vm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
