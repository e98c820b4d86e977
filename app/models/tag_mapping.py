from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class TagMapping(Base):
    """One VMware tag (category + name) to AWS tag (key + value) mapping of a hypervisor.

    Kept in AWS's order (``position``); AWS replaces the whole list at once, and so do we.
    """

    __tablename__ = "tag_mapping"

    hypervisor_id: Mapped[str] = mapped_column(
        ForeignKey("hypervisor.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    vmware_category: Mapped[str] = mapped_column(String(80))
    vmware_tag_name: Mapped[str] = mapped_column(String(80))
    aws_tag_key: Mapped[str] = mapped_column(String(128))
    aws_tag_value: Mapped[str] = mapped_column(String(256))
