"""Entity tags for optimistic concurrency (RFC 9110 section 8.8.3 and 13.1).

A resource whose state a client reads and then replaces (read-modify-write) publishes an ETag; a
replace must send it back in ``If-Match``. Missing on a replace -> 428, stale -> 412, so two
clients can never silently overwrite each other.

``If-Match`` uses the strong comparison (a weak tag never matches); ``If-None-Match`` the weak one.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Header

from app.core.errors import PreconditionFailed, PreconditionRequired

# One entity tag: optional W/ prefix, then a quoted string of etagc characters.
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')

IfMatchDep = Annotated[
    str | None,
    Header(
        alias="If-Match", max_length=2000,
        description="The ETag of the state you read (from a GET); the change is refused with "
        "412 if the resource changed since. `*` matches any current state.",
    ),
]
IfNoneMatchDep = Annotated[
    str | None,
    Header(alias="If-None-Match", max_length=2000,
           description="An ETag you hold; 304 Not Modified when it is still current."),
]


def content_etag(content: Any) -> str:
    """A strong ETag derived from a JSON-serialisable value: the same state gives the same tag
    on every replica, so no counter has to be shared."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def parse_entity_tags(header: str) -> list[tuple[bool, str]] | None:
    """The tags of an If-Match / If-None-Match header as (is_weak, opaque) pairs; None for ``*``.

    Malformed members are skipped: an unparsable tag can never match, which is the safe reading.
    """
    if header.strip() == "*":
        return None
    tags = []
    for member in _split_members(header):
        found = _ENTITY_TAG.fullmatch(member)
        if found is not None:
            tags.append((found.group(1) is not None, found.group(2)))
    return tags


def strong_match(header: str, current: str) -> bool:
    """RFC 9110 strong comparison: both tags strong and byte-identical."""
    return _matches(header, current, strong=True)


def weak_match(header: str, current: str) -> bool:
    """RFC 9110 weak comparison: the opaque parts are equal, W/ prefixes ignored."""
    return _matches(header, current, strong=False)


def _matches(header: str, current: str, *, strong: bool) -> bool:
    tags = parse_entity_tags(header)
    if tags is None:  # "*" matches any current representation
        return True
    parsed_current = parse_entity_tags(current)
    if not parsed_current:
        return False
    current_weak, current_opaque = parsed_current[0]
    if strong and current_weak:
        return False
    return any(opaque == current_opaque and not (strong and weak) for weak, opaque in tags)


def require_if_match(if_match: str | None, current: str, *, resource: str) -> None:
    """Refuse a replace without If-Match (428) or with a stale one (412). ``resource`` is a
    noun phrase as it reads mid-sentence ("the tag mappings of hypervisor hype-1")."""
    if if_match is None:
        raise PreconditionRequired(
            f"Replacing {resource} needs an If-Match header: send the ETag of your last GET, "
            "so that a concurrent change is not overwritten.", current_etag=current)
    check_if_match(if_match, current, resource=resource)


def check_if_match(if_match: str | None, current: str, *, resource: str) -> None:
    """When If-Match is given, it must still match (412 otherwise); absent is allowed."""
    if if_match is not None and not strong_match(if_match, current):
        raise PreconditionFailed(
            f"{as_sentence_start(resource)} changed after the read your If-Match comes from: "
            "read again, re-apply your change and retry.",
            headers={"ETag": current}, current_etag=current)


def as_sentence_start(phrase: str) -> str:
    """A mid-sentence noun phrase ("the tag mappings of ...") opening a sentence."""
    return phrase[:1].upper() + phrase[1:]


def is_not_modified(if_none_match: str | None, current: str) -> bool:
    return if_none_match is not None and weak_match(if_none_match, current)


def _split_members(header: str) -> list[str]:
    # Commas may appear inside quoted tags, so split only outside quotes.
    members: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            members.append("".join(current))
            current = []
        else:
            current.append(char)
    members.append("".join(current))
    return [member for member in members if member.strip()]
