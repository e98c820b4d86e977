from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class BackupVault(Base):
    """An AWS Backup vault, as the plans refresh last listed it."""

    __tablename__ = "backup_vault"

    # Vault names are unique per account and region only ("Default" is in every one).
    target: Mapped[str] = mapped_column(String(40), primary_key=True, default="default",
                                        server_default="default")
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    arn: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recovery_point_count: Mapped[int | None] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when a complete listing no longer contained it.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
