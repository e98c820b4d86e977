"""NextToken / MaxResults for every backup List* operation (opaque offset tokens)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypeVar

from emulator.backup.aws_errors import invalid_parameter

T = TypeVar("T")


def paginate(
    items: Sequence[T], params: dict[str, Any], *, scope: str, default_size: int
) -> tuple[Sequence[T], str | None]:
    """Return one page and the token for the next (None on the last page)."""
    size = params.get("MaxResults", default_size)
    if not 1 <= size <= 1000:
        raise invalid_parameter("MaxResults must be between 1 and 1000")
    offset = _decode(params.get("NextToken"), scope)
    page = items[offset : offset + size]
    end = offset + len(page)
    return page, (_encode(end, scope) if end < len(items) else None)


def _encode(offset: int, scope: str) -> str:
    return base64.urlsafe_b64encode(f"{scope}:{offset}".encode()).decode()


def _decode(token: str | None, scope: str) -> int:
    if not token:
        return 0
    try:
        found_scope, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if found_scope == scope and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise invalid_parameter("The NextToken is invalid or expired")
