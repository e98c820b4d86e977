"""NextToken / MaxResults for every backup List* operation.

Tokens are keyset cursors (the sort key of the last item returned), so items created or deleted
between two pages neither repeat nor vanish from the pages still to come.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from emulator.backup.aws_errors import invalid_parameter

T = TypeVar("T")
SortKey = tuple[Any, ...]


def paginate(
    items: Sequence[T],
    params: dict[str, Any],
    *,
    scope: str,
    default_size: int,
    key: Callable[[T], SortKey],
) -> tuple[Sequence[T], str | None]:
    """One page of `items` in ascending `key` order and the token for the next, if any."""
    size = page_size(params, default_size)
    after = _decode(params.get("NextToken"), scope)
    ordered = sorted(items, key=key)
    remaining = ordered if after is None else [item for item in ordered if key(item) > after]
    page = remaining[:size]
    has_more = len(remaining) > size
    return page, (_encode(key(page[-1]), scope) if has_more and page else None)


def page_size(params: dict[str, Any], default_size: int) -> int:
    size: int = params.get("MaxResults", default_size)
    if not 1 <= size <= 1000:
        raise invalid_parameter("MaxResults must be between 1 and 1000")
    return size


def encode_token(sort_key: SortKey, scope: str) -> str:
    return _encode(sort_key, scope)


def decode_token(token: str | None, scope: str) -> SortKey | None:
    return _decode(token, scope)


def _encode(sort_key: SortKey, scope: str) -> str:
    document = json.dumps({"scope": scope, "after": list(sort_key)})
    return base64.urlsafe_b64encode(document.encode()).decode()


def _decode(token: str | None, scope: str) -> SortKey | None:
    if not token:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        if document["scope"] == scope and isinstance(document["after"], list):
            return tuple(document["after"])
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
        pass
    raise invalid_parameter("The NextToken is invalid or expired")
