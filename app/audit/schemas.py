from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from app.core.pagination import Page


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    REJECTED = "rejected"
    ERROR = "error"


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    principal: str
    action: str
    method: str
    target: str
    request_id: str
    status: int
    outcome: AuditOutcome


class AuditEventPage(Page[AuditEventRead]):
    pass
