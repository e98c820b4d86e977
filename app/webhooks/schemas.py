from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    UrlConstraints,
    field_validator,
)

from app.core.aws_types import WITHOUT_NUL
from app.core.pagination import Page

# http and https only (HttpUrl), with a host, no credentials in it, at most 2,000 characters.
WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000, host_required=True)]
EventTypes = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(
    min_length=1, max_length=20,
    description="Types to deliver: `job.completed`, a prefix ending in '.' (`job.`), or `*`.")]
# Free text, line breaks included.
Description = Annotated[str, StringConstraints(max_length=500, pattern=WITHOUT_NUL)]


def _no_credentials(url: HttpUrl | None) -> HttpUrl | None:
    if url is not None and (url.username or url.password):
        raise ValueError("credentials in the URL are not accepted; the signature "
                         "authenticates deliveries")
    return url


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(description="Where deliveries are POSTed (http or https).")
    event_types: EventTypes
    description: Description | None = None

    _check_url = field_validator("url")(_no_credentials)


class WebhookUpdate(BaseModel):
    """Omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    is_enabled: bool | None = Field(
        default=None, description="true re-enables a subscription disabled after failures "
        "(its failure count starts again; waiting deliveries are retried now).")
    rotate_secret: bool = Field(
        default=False, description="Make a new signing secret, returned once in `secret`.")

    _check_url = field_validator("url")(_no_credentials)


class WebhookRead(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    is_enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled, if it was.")
    consecutive_failures: int = Field(description="Failed attempts in a row, any delivery.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    secret: str | None = Field(
        default=None, description="The signing secret: only in the answer to the creation "
        "(and to a PATCH with rotate_secret); store it then, it is never shown again.")


class WebhookPage(Page[WebhookRead]):
    pass


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: str
    event_id: int
    event_type: str
    status: DeliveryStatus = Field(
        description="pending (waiting for its next attempt), succeeded, or failed (given up "
        "after the maximum attempts).")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None = Field(description="The receiver's last HTTP status.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryPage(Page[WebhookDeliveryRead]):
    pass
