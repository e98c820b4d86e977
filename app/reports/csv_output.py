"""Reports as CSV for spreadsheets: the same page of rows as the JSON's ``items``, one flat line
each, chosen by ``Accept: text/csv``. Lists are joined with ``;``; null is an empty cell. The
next page's URL is in a ``Link: <...>; rel="next"`` header."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

CSV_MEDIA_TYPE = "text/csv"


def _quality(accept: str, media_type: str) -> float:
    best = 0.0
    for part in accept.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        if name.lower() != media_type:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best = max(best, quality)
    return best


def wants_csv(request: Request) -> bool:
    """``text/csv`` asked for by name, and not less wanted than JSON."""
    accept = request.headers.get("accept", "")
    csv_quality = _quality(accept, CSV_MEDIA_TYPE)
    return csv_quality > 0 and csv_quality >= _quality(accept, "application/json")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_response(request: Request, rows: Sequence[BaseModel], model: type[BaseModel],
                 next_cursor: str | None) -> Response:
    columns = list(model.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = row.model_dump(mode="json")
        writer.writerow([_cell(values[column]) for column in columns])
    headers = {}
    if next_cursor is not None:
        headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    return Response(buffer.getvalue(), media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
                    headers=headers)


def csv_content(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 response's CSV alternative, for the spec."""
    header = ",".join(model.model_fields)
    return {200: {"content": {CSV_MEDIA_TYPE: {
        "schema": {"type": "string"},
        "example": header + "\r\n",
    }}, "description": f"JSON by default; with `Accept: text/csv`, the page's rows as CSV "
        f"(columns: {header}; lists joined with `;`; next page in the `Link` header)."}}
