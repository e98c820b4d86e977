from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Webhook(Base):
    """A subscription: events of some types are POSTed, signed, to a URL."""

    __tablename__ = "webhook"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    # Space-separated type patterns: `job.completed`, `job.` (a prefix), or `*`.
    event_types: Mapped[str] = mapped_column(String(2000))
    # The signing secret, encrypted with a key derived from the server's secret key
    # (app/webhooks/secrets.py); ``secret_key_id`` names that key, so a changed key is reported.
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    secret_key_id: Mapped[str] = mapped_column(String(16))
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    # Events up to this id have been turned into deliveries (or did not match).
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
