from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class EventRead(BaseModel):
    """One event: the same object an SSE `data:` line and a webhook body carry."""

    id: int = Field(description="Increases in commit order; pass the last one seen to resume.")
    type: str = Field(description="See GET /events/types.")
    subject: str = Field(description="What it is about, e.g. `job/<id>`, `vm/<id>`.")
    occurred_at: datetime
    data: dict[str, Any] = Field(description="The payload documented for the type.")


class EventLogPage(BaseModel):
    items: list[EventRead]
    next_after: int = Field(
        description="Pass as `after` to continue (also when `items` is empty: events of "
        "other types up to here were skipped).")
    has_more: bool = Field(description="Whether more events are already waiting.")


class EventTypeRead(BaseModel):
    type: str
    subject: str = Field(description="The pattern of the events' subject.")
    description: str
    payload: str = Field(description="What `data` holds.")


class EventTypeList(BaseModel):
    items: list[EventTypeRead]
