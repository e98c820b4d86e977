"""A selection rule as a WHERE clause on ``vm``: the same semantics as :mod:`app.coverage.rules`,
evaluated by the database over every cached VM.

Wildcards need the dialect: PostgreSQL's LIKE is case sensitive, as AWS is; SQLite's LIKE is not
(for ASCII), so SQLite uses GLOB, which is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, true

from app.coverage.rules import Operator, SelectionRule, TagTest
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag


def selection_clause(rule: SelectionRule, dialect: str) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if rule.resources or rule.any_of_tags:
        candidates = [_arn_clause(pattern, dialect) for pattern in rule.resources]
        candidates += [_tag_clause(test, dialect) for test in rule.any_of_tags]
        clauses.append(or_(*candidates))
    clauses += [_tag_clause(test, dialect) for test in rule.all_of]
    if rule.not_resources:
        clauses.append(not_(or_(*(_arn_clause(p, dialect) for p in rule.not_resources))))
    return and_(true(), *clauses)


def _arn_clause(pattern: str, dialect: str) -> ColumnElement[bool]:
    if "*" not in pattern:
        # The id is the ARN's last part: the primary key narrows it, the ARN makes it exact.
        return and_(Vm.id == pattern.rsplit("/", 1)[-1], Vm.arn == pattern)
    if pattern == "*":
        return true()
    return wildcard_match(Vm.arn, pattern, dialect, single_char=False)


def _tag_clause(test: TagTest, dialect: str) -> ColumnElement[bool]:
    has = [VmAwsTag.vm_id == Vm.id, VmAwsTag.key == test.key]
    if test.operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        has.append(VmAwsTag.value == test.value)
    else:
        has.append(wildcard_match(VmAwsTag.value, test.value, dialect, single_char=True))
    found = exists().where(*has)
    return found if test.operator in (Operator.EQUALS, Operator.LIKE) else not_(found)


def wildcard_match(column: Any, pattern: str, dialect: str, *,
                   single_char: bool) -> ColumnElement[bool]:
    """``*`` (and, with ``single_char``, ``?``) as wildcards; every other character literal."""
    if not pattern:
        return column == ""  # type: ignore[no-any-return]
    if dialect == "sqlite":
        # Outside a class, "]" is literal; "[" and a literal "?" are written as classes.
        glob = "".join(f"[{char}]" if char == "[" or (char == "?" and not single_char)
                       else char for char in pattern)
        return column.op("GLOB")(glob)  # type: ignore[no-any-return]
    like = "".join("%" if char == "*" else "_" if char == "?" and single_char
                   else "\\" + char if char in "\\%_" else char for char in pattern)
    return column.like(like, escape="\\")  # type: ignore[no-any-return]
