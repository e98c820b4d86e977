"""Keyset pagination over sorted keys, with opaque NextTokens like AWS's."""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from typing import Any

from emulator.errors import validation_error

DEFAULT_PAGE_SIZE = 100
_TOKEN_PREFIX = "v1:"  # noqa: S105 - a token format marker, not a secret


def page(
    sorted_keys: list[str], params: dict[str, Any], *, max_page_size: int
) -> tuple[list[str], str | None]:
    """The keys of the requested page and the NextToken for the next one (None at the end)."""
    size = min(params.get("MaxResults") or DEFAULT_PAGE_SIZE, max_page_size)
    token = params.get("NextToken")
    start = 0 if token is None else bisect_right(sorted_keys, _last_key_from(token))
    keys = sorted_keys[start : start + size]
    is_last_page = start + size >= len(sorted_keys)
    return keys, None if is_last_page or not keys else _token_after(keys[-1])


def _token_after(key: str) -> str:
    return base64.urlsafe_b64encode((_TOKEN_PREFIX + key).encode()).decode()


def _last_key_from(token: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.startswith(_TOKEN_PREFIX):
        raise validation_error("The NextToken is invalid or has expired.")
    return decoded.removeprefix(_TOKEN_PREFIX)
