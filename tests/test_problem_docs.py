"""docs/problems.md documents every problem type the service can answer with."""

from pathlib import Path

import app.main  # noqa: F401  (imports every router, so every DomainError subclass is defined)
from app.core.errors import DomainError

PROBLEMS_DOC = Path(__file__).resolve().parents[1] / "docs" / "problems.md"


def _subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found = set(cls.__subclasses__())
    for subclass in list(found):
        found |= _subclasses(subclass)
    return found


def test_every_problem_type_is_documented() -> None:
    doc = PROBLEMS_DOC.read_text()
    slugs = {error.slug for error in _subclasses(DomainError)} | {DomainError.slug}
    assert sorted(slug for slug in slugs if f"`{slug}`" not in doc) == []
