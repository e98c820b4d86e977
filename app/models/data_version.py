from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DataVersion(Base):
    """A counter per cached data set (``inventory``: the tables behind GET /vms), moved on in
    the same transaction as every write to that set, so a replica can tell by reading one row
    whether its in-process response cache is still what the database holds."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
