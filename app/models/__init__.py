"""ORM tables, one module each. Importing this package registers them all on ``Base.metadata``."""

from app.models.audit_event import AuditEvent
from app.models.base import Base
from app.models.idempotency_key import IdempotencyKey

__all__ = ["AuditEvent", "Base", "IdempotencyKey"]
