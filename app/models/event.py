from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class Event(Base):
    """One entry of the outbox: something that happened, written in the transaction that made it
    happen. ``id`` is given at commit, in commit order (app/events/outbox.py), so a reader that
    has seen id N will never find a smaller id committed later."""

    __tablename__ = "event"

    # No autoincrement: ids come from event_sequence, taken when the transaction commits.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # The payload as JSON text: serialized once when recorded, sent verbatim to every reader.
    data: Mapped[str] = mapped_column(Text)
