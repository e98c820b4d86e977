from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class BackupRule(Base):
    """One rule of a backup plan, in the plan's order."""

    __tablename__ = "backup_rule"

    plan_id: Mapped[str] = mapped_column(ForeignKey("backup_plan.id", ondelete="CASCADE"),
                                         primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(50))
    vault_name: Mapped[str] = mapped_column(String(50))
    schedule_expression: Mapped[str] = mapped_column(String(256))
    schedule_timezone: Mapped[str] = mapped_column(String(64))
    start_window_minutes: Mapped[int | None] = mapped_column(Integer)
    completion_window_minutes: Mapped[int | None] = mapped_column(Integer)
    cold_storage_after_days: Mapped[int | None] = mapped_column(Integer)
    delete_after_days: Mapped[int | None] = mapped_column(Integer)
