from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime, utcnow


class IdempotencyKey(Base):
    """A POST made with an Idempotency-Key: its fingerprint and, once done, its response."""

    __tablename__ = "idempotency_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Keys are per credential, so two clients cannot replay each other's responses.
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_headers: Mapped[str | None] = mapped_column(String(4000), default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)

    __table_args__ = (UniqueConstraint("owner", "key"),)
