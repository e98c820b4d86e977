"""The ETag helper: strong and weak comparison, 428 when missing, 412 when stale."""

from __future__ import annotations

import pytest

from app.core.errors import PreconditionFailed, PreconditionRequired
from app.core.etag import (
    check_if_match,
    content_etag,
    is_not_modified,
    parse_entity_tags,
    require_if_match,
    strong_match,
    weak_match,
)

CURRENT = '"abc"'


def test_content_etag_is_stable_and_strong() -> None:
    assert content_etag({"b": 1, "a": [1, 2]}) == content_etag({"a": [1, 2], "b": 1})
    assert content_etag({"a": 1}) != content_etag({"a": 2})
    assert content_etag([]).startswith('"')
    assert not content_etag([]).startswith("W/")


def test_parse_lists_weak_tags_and_commas_inside_quotes() -> None:
    assert parse_entity_tags('W/"x", "y,z" ,bad, "w"') == [(True, "x"), (False, "y,z"),
                                                           (False, "w")]
    assert parse_entity_tags(" * ") is None


@pytest.mark.parametrize(("header", "strong", "weak"), [
    ('"abc"', True, True),
    ('W/"abc"', False, True),
    ('"other", "abc"', True, True),
    ('"other"', False, False),
    ("abc", False, False),  # unquoted: malformed, never matches
    ("*", True, True),
])
def test_comparisons(header: str, strong: bool, weak: bool) -> None:
    assert strong_match(header, CURRENT) is strong
    assert weak_match(header, CURRENT) is weak


def test_a_weak_current_tag_never_matches_strongly() -> None:
    assert not strong_match('W/"abc"', 'W/"abc"')
    assert weak_match('"abc"', 'W/"abc"')


def test_require_if_match() -> None:
    with pytest.raises(PreconditionRequired):
        require_if_match(None, CURRENT, resource="it")
    with pytest.raises(PreconditionFailed) as stale:
        require_if_match('"old"', CURRENT, resource="it")
    assert stale.value.headers == {"ETag": CURRENT}
    require_if_match(CURRENT, CURRENT, resource="it")
    check_if_match(None, CURRENT, resource="it")  # optional where the change is relative


def test_if_none_match() -> None:
    assert is_not_modified('W/"abc"', CURRENT)
    assert not is_not_modified(None, CURRENT)
    assert not is_not_modified('"x"', CURRENT)
