from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class JobRefreshState(Base):
    """Where the job refresh of one account/region stands, in AWS's own clock.

    The high-water marks are the newest CreationDate and CompletionDate a listing returned; the
    next refresh lists from them minus an overlap. They are never taken from jobs vmbackup
    wrote itself (an on-demand start), which would skip scheduled jobs not yet listed.
    """

    __tablename__ = "job_refresh_state"

    unit: Mapped[str] = mapped_column(String(200), primary_key=True)  # jobs:<region>
    created_high_water_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_high_water_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The first refresh's AWS time: VMs discovered after it have their whole job history here.
    history_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
