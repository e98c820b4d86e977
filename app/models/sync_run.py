from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class SyncRun(Base):
    """One background refresh run: an inventory refresh of one hypervisor, or a status refresh."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # inventory | status | jobs
    hypervisor_id: Mapped[str | None] = mapped_column(String(64))
    # The AWS target (alias) of a per-target unit (status, plans, jobs, membership).
    target: Mapped[str | None] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20))  # interval | manual
    requested_by: Mapped[str | None] = mapped_column(String(200))
    # Which replica ran it (host:pid:random), so a stuck run can be traced to its process.
    runner: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    vms_seen: Mapped[int] = mapped_column(Integer, default=0)
    vms_new: Mapped[int] = mapped_column(Integer, default=0)
    vms_changed: Mapped[int] = mapped_column(Integer, default=0)
    vms_tombstoned: Mapped[int] = mapped_column(Integer, default=0)
    tags_fetched: Mapped[int] = mapped_column(Integer, default=0)
    tag_errors: Mapped[int] = mapped_column(Integer, default=0)
    # Job refresh runs: the jobs AWS returned, and how many of them changed the cache.
    jobs_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    jobs_changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_listing_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(2000))

    __table_args__ = (
        Index("ix_sync_run_started_at_id", "started_at", "id"),
        Index("ix_sync_run_hypervisor_id_started_at", "hypervisor_id", "started_at"),
    )
