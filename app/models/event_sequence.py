from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class EventSequence(Base):
    """The last event id handed out. Its row is locked from a transaction's first event id to
    its commit, which is what makes event ids follow commit order (app/events/outbox.py)."""

    __tablename__ = "event_sequence"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
