from datetime import datetime

from sqlalchemy import SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Gateway(Base):
    """A Backup gateway appliance; it discovers and backs up the VMs of one hypervisor."""

    __tablename__ = "gateway"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # bgw-XXXXXXXX
    arn: Mapped[str] = mapped_column(String(500), unique=True)
    # The AWS account/region (VMBACKUP_AWS_TARGETS alias) it lives in.
    target: Mapped[str] = mapped_column(String(40), default="default", server_default="default",
                                        index=True)
    name: Mapped[str] = mapped_column(String(100))
    gateway_type: Mapped[str] = mapped_column(String(40))
    hypervisor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    software_version: Mapped[str | None] = mapped_column(String(100))
    next_update_available_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deprecated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The weekly (day_of_week 0-6) or monthly (day_of_month 1-31) maintenance start, in UTC.
    maintenance_day_of_week: Mapped[int | None] = mapped_column(SmallInteger)
    maintenance_day_of_month: Mapped[int | None] = mapped_column(SmallInteger)
    maintenance_hour_of_day: Mapped[int | None] = mapped_column(SmallInteger)
    maintenance_minute_of_hour: Mapped[int | None] = mapped_column(SmallInteger)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
