"""Date-times as input: ISO 8601 text with a time zone, nothing else (a naive time would be
compared with UTC columns as if it were UTC, or not at all).

pydantic's lax mode also takes numbers (and numeric text such as `0.5`) as Unix times: an API
whose spec says `format: date-time` must not read `last_backup_before=0.5` as 1970.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

# A calendar date, the letter T (or a space) and at least hours and minutes; the rest (seconds,
# fraction, zone) is left to pydantic's parser.
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_only(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE_TIME.match(value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-01-05T09:00:00Z")
    return value


def _with_zone(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the date-time needs a time zone, e.g. 2026-01-05T09:00:00Z")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_with_zone)]
