"""An event as clients receive it, in an SSE ``data:`` line and as a webhook's body."""

from __future__ import annotations

import json
from datetime import datetime


def envelope_json(event_id: int, event_type: str, subject: str, occurred_at: datetime,
                  data: str) -> str:
    """``{"id", "type", "subject", "occurred_at", "data"}`` on one line; the stored payload is
    already JSON and goes in as it is."""
    return (f'{{"id":{event_id},"type":{json.dumps(event_type)},"subject":{json.dumps(subject)},'
            f'"occurred_at":"{occurred_at.isoformat().replace("+00:00", "Z")}","data":{data}}}')
