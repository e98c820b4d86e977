from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Lease(Base):
    """A named unit of background work (e.g. ``inventory:hype-1``) held by one replica at a time.

    A replica owns the unit while ``expires_at`` is in the future; a replica that dies simply stops
    renewing, and another takes the unit over once the lease has expired.
    """

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When a run of the unit last started, so N replicas run it once per interval, not N times.
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
