from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class StartIntent(Base):
    """An AWS start (StartBackupJob, StartRestoreJob) about to be sent, committed on its own
    before the call: if the request's transaction never commits, a retry with the same
    Idempotency-Key still knows its first attempt may have started the AWS job."""

    __tablename__ = "start_intent"

    # Derived from (credential, Idempotency-Key, resource): one intent per AWS start.
    idempotency_token: Mapped[str] = mapped_column(String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    # The VM id (backups) or the recovery point ARN (restores) the start was for.
    resource_id: Mapped[str] = mapped_column(String(500))
    principal: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_start_intent_created_at", "created_at"),)
