from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Gateway(Base):
    """A Backup gateway appliance; it discovers and backs up the VMs of one hypervisor."""

    __tablename__ = "gateway"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # bgw-XXXXXXXX
    arn: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    gateway_type: Mapped[str] = mapped_column(String(40))
    hypervisor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    software_version: Mapped[str | None] = mapped_column(String(100))
    next_update_available_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deprecated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # "day-of-week hh:mm" in UTC as AWS reports it, e.g. "Sun 03:00"; null when not set.
    maintenance_start: Mapped[str | None] = mapped_column(String(40))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
